"""Generated from proto/doppel/v1/ by ``make proto`` (proto/generate.py). Do not edit."""
