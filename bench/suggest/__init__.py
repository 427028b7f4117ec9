"""Suggestion benchmark (issue 6): does the top suggestion improve held-out rows, and how
does exploration compare with Optuna's TPE given the same wall-clock budget?"""
