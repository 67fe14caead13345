"""Pulumi dynamic providers, each a package of its own: typed props, handlers, catalog reader."""
