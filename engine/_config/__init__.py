"""The bureau's configuration as data: bureau.toml, matter catalogues, form schemas, and how submitted data
is described for people."""
