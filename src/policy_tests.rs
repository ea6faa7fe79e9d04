// Unit tests of decisions: preflight checks, response plans, rule selection.
