"""The README documents the command line that `ghostrun --help` shows (issue 7).

- every command listed by `ghostrun --help` appears as `ghostrun COMMAND` in README.md;
- every option in a command's `--help` appears in the README on a line (a table row) or in
  a paragraph that also names `ghostrun COMMAND`;
- the flags every project command shares are checked once: `--project` anywhere in the
  README, and each setting's flag by the setting's name in the configuration table.

Each test's failure message lists everything missing, so the README can be fixed in one go.
"""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

import click
import pytest

from ghostrun.cli import main
from ghostrun.config import Settings

README = Path(__file__).resolve().parents[1] / "README.md"
SETTINGS = frozenset(f.name for f in fields(Settings))
SHARED = frozenset({"project_dir"}) | SETTINGS  # what every project command gets
HELP = frozenset({"help"})


def readme() -> str:
    return README.read_text(encoding="utf-8")


def chunks(text: str) -> list[str]:
    """Table rows one by one, prose a paragraph at a time."""
    found: list[str] = []
    paragraph: list[str] = []
    for line in [*text.splitlines(), ""]:
        if line.lstrip().startswith("|"):
            found.append(line)
        elif line.strip():
            paragraph.append(line)
            continue
        if paragraph:
            found.append(" ".join(paragraph))
            paragraph = []
    return found


def mentions(text: str, word: str) -> bool:
    """`word` (a command phrase or a flag) as a whole token, not inside a longer flag."""
    return re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", text) is not None


def commands() -> dict[str, click.Command]:
    ctx = click.Context(main)
    found = {}
    for name in main.list_commands(ctx):
        command = main.get_command(ctx, name)
        if command is not None and not command.hidden:
            found[name] = command
    return found


def shown_options(command: click.Command, prog: str) -> list[click.Option]:
    """The options `--help` shows for `command` (checked against the help text itself)."""
    ctx = click.Context(command, info_name=prog)
    help_text = command.get_help(ctx)
    helps = {"--help", "-h"}
    options = [p for p in command.get_params(ctx)
               if isinstance(p, click.Option) and not p.hidden and p.name not in HELP
               and not helps & set(p.opts)]
    for option in options:
        assert all(flag in help_text for flag in option.opts), (prog, option.opts)
    return options


def shared_names(options: list[click.Option]) -> set[str]:
    """The options a project command has because it is one (`--project`, the settings);
    a command without `--project` (demo) shares none, whatever its options are called."""
    names = {o.name for o in options if o.name is not None}
    return names & SHARED if "project_dir" in names else set()


def config_keys(text: str) -> set[str]:
    """First-column keys of the table under the README's "## Configuration" heading."""
    section = text.split("## Configuration", 1)[-1].split("\n## ", 1)[0]
    return {m.group(1) for m in re.finditer(r"^\|\s*`([\w.]+)`", section, re.MULTILINE)}


def test_readme_has_a_configuration_table() -> None:
    assert config_keys(readme()), "README.md has no '## Configuration' table of keys"


def test_every_command_is_in_the_readme() -> None:
    text = readme()
    missing = [f"ghostrun {name}" for name in commands() if not mentions(text, f"ghostrun {name}")]
    assert not missing, "README.md does not mention these commands: " + ", ".join(missing)


def test_every_option_is_with_its_command_in_the_readme() -> None:
    parts = chunks(readme())
    missing = []
    for name, command in commands().items():
        options = shown_options(command, f"ghostrun {name}")
        for option in options:
            if option.name in shared_names(options):
                continue
            flags = [*option.opts, *option.secondary_opts]
            near = [c for c in parts if mentions(c, f"ghostrun {name}")]
            if not any(mentions(c, flag) for c in near for flag in flags):
                missing.append(f"ghostrun {name} {'/'.join(flags)}")
    assert not missing, ("README.md does not document these options next to their command: "
                         + ", ".join(missing))


def test_top_level_options_are_in_the_readme() -> None:
    text = readme()
    ctx = click.Context(main, info_name="ghostrun")
    flags = [o.opts[0] for o in main.get_params(ctx)
             if isinstance(o, click.Option) and o.name not in HELP and not o.hidden]
    missing = [f"ghostrun {flag}" for flag in flags if not mentions(text, flag)]
    assert not missing, "README.md does not mention: " + ", ".join(missing)


def test_shared_flags_are_documented_once() -> None:
    text = readme()
    keys = config_keys(text)
    shared: set[str] = set()
    for name, command in commands().items():
        shared |= shared_names(shown_options(command, f"ghostrun {name}"))
    missing = sorted(f"setting {s} (flag --{s.replace('_', '-')})"
                     for s in shared & SETTINGS if s not in keys)
    if "project_dir" in shared and not mentions(text, "--project"):
        missing.insert(0, "--project")
    assert not missing, ("README.md's configuration table (or text) lacks: "
                         + ", ".join(missing))


@pytest.mark.parametrize("text", ["`ghostrun run --json`", "| `ghostrun run [--json]` |"])
def test_the_checks_see_what_they_should(text: str) -> None:
    (part,) = chunks(text)
    assert mentions(part, "ghostrun run") and mentions(part, "--json")
    assert not mentions("`ghostrun run-all --jsonl`", "--json")
    assert not mentions("`ghostrun runs`", "ghostrun run")
