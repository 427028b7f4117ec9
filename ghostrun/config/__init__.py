"""Settings: declared once, read from a file, the environment and command-line flags.

Every setting is one field of `Settings`; its metadata holds the help text and the kind of
value it takes. TOML keys, environment variables and click options are all derived from
the fields, so adding a setting means adding one field (STYLE.md: no setting declared
twice).

Where settings come from, highest priority first (`sources._resolve`):

1. a command-line flag, `--kebab-case` (`--storage-budget 4GiB`; `--input NAME=VALUE` for
   `inputs`, repeatable);
2. an environment variable `GHOSTRUN_<NAME>` (`GHOSTRUN_STORAGE_BUDGET=4GiB`); an empty
   variable counts as unset; `inputs` is a JSON object there, `estimator_modules` a
   comma-separated list;
3. the project's config file: `ghostrun.toml` with the settings as *top-level keys*, or
   the `[tool.ghostrun]` table of `pyproject.toml`. If a project has both, ghostrun.toml
   wins and `[tool.ghostrun]` is ignored (with a logged warning);
4. the field's default.

TOML keys are the field names with underscores (`storage_budget = "4GiB"`). `inputs` is
merged key by key across sources with the same priority, so `--input path=small.csv`
replaces one input and keeps the others from the file. Values are checked wherever they
come from; a wrong one raises `ConfigError` naming the source, the key and what is
expected.

Modules, lowest first: `kinds` (value kinds: check, parse, show), `spec` (what a field
declares and what is derived from it), `toml_text` (the commented config file),
`settings` (the `Settings` dataclass), `sources` (project root, config file, environment,
overrides, resolution), `options` (the click options).
"""

from ghostrun.config.kinds import parse_size
from ghostrun.config.options import overrides_from_click, settings_options
from ghostrun.config.settings import Settings
from ghostrun.config.sources import (
    CONFIG_FILE,
    config_file,
    display_path,
    find_project_root,
    load_settings,
)
from ghostrun.config.spec import ENV_PREFIX

__all__ = [
    "CONFIG_FILE",
    "ENV_PREFIX",
    "Settings",
    "config_file",
    "display_path",
    "find_project_root",
    "load_settings",
    "overrides_from_click",
    "parse_size",
    "settings_options",
]
