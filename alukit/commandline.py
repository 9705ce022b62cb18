"""The commands' argument parser: a mistake raises :class:`UsageError` (one line, exit 2 in
:mod:`alukit.__main__`) instead of printing the usage block and exiting from inside argparse."""
from __future__ import annotations

import argparse

__all__ = ["UsageError", "Parser"]


class UsageError(ValueError):
    """A command-line argument the command cannot use; the message names it and what is allowed."""


class Parser(argparse.ArgumentParser):
    """``argparse.ArgumentParser`` whose errors raise :class:`UsageError` ``"<prog>: <message>"``."""

    def error(self, message: str):
        raise UsageError(f"{self.prog}: {message} (see {self.prog} --help)")
