"""xpander-redshift: Pulumi components for a private Redshift cluster queried with IAM auth."""
