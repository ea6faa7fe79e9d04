// Unit tests of configuration parsing and validation.
