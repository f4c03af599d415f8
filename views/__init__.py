"""Pure Block Kit builders shared by commands and jobs: plain data in, dicts out."""
