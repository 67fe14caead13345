"""The pure model of the stack: settings, rules, ARNs, IAM documents, SQL, outputs. No pulumi."""
