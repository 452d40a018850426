"""Running derivcheck: the command line, its commands and batch grading."""
