#!/usr/bin/python3
"""Validates repro configs against the config's JSON Schema with python3-jsonschema (Debian).

  scripts/schema_check.py SCHEMA FILE...                  every FILE must be valid: exit 0, else 1
  scripts/schema_check.py SCHEMA --expect-invalid FILE... every FILE must be invalid

Reads YAML as editors do (YAML 1.2's core schema: true/false are booleans, on/off/yes/no are
strings, 1e-3 is a number), which is how the schema spells what repro's decoder takes. Prints one
line per file, OK or the first error with its key path, then PASS or FAIL. Exit 77 with a line
"SKIPPED: ..." when python3-jsonschema or python3-yaml is missing (the tests report it skipped).
"""
import json
import re
import sys

try:
    import jsonschema
    import yaml
except ImportError as e:
    print(f"SKIPPED: {e.name} is missing (apt-get install python3-jsonschema python3-yaml)")
    sys.exit(77)


class CoreLoader(yaml.SafeLoader):
    """PyYAML's safe loader with YAML 1.2 core-schema scalars instead of YAML 1.1's."""


CoreLoader.yaml_implicit_resolvers = {}
for tag, pattern, first in [
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    ("tag:yaml.org,2002:int", r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", "-+0123456789"),
    ("tag:yaml.org,2002:float",
     r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
     r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$", "-+0123456789."),
]:
    CoreLoader.add_implicit_resolver(tag, re.compile(pattern), list(first))


def construct_bool(loader, node):
    return loader.construct_scalar(node).lower() == "true"


def construct_int(loader, node):
    text = loader.construct_scalar(node)
    if text.startswith("0o"):
        return int(text[2:], 8)
    return int(text, 0) if text.startswith("0x") else int(text, 10)


CoreLoader.add_constructor("tag:yaml.org,2002:bool", construct_bool)
CoreLoader.add_constructor("tag:yaml.org,2002:int", construct_int)


def main(argv):
    if len(argv) < 3:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    with open(argv[1], encoding="utf-8") as f:
        schema = json.load(f)
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    validator = validator_class(schema)
    expect_valid = argv[2] != "--expect-invalid"
    files = argv[2:] if expect_valid else argv[3:]
    failed = 0
    for name in files:
        with open(name, encoding="utf-8") as f:
            document = yaml.load(f, Loader=CoreLoader)
        errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
        where = ""
        if errors:
            best = jsonschema.exceptions.best_match(errors)
            path = ".".join(str(p) for p in best.absolute_path) or "(the config)"
            where = f"{path}: {best.message}"
        if bool(errors) == expect_valid:
            failed += 1
            print(f"{name}: " + (where if errors else "valid, but should be invalid"))
        else:
            print(f"{name}: " + ("OK" if expect_valid else f"invalid as expected ({where})"))
    print(f"{'FAIL' if failed else 'PASS'}: {len(files) - failed} of {len(files)} files "
          f"{'valid' if expect_valid else 'invalid'} against {argv[1]} "
          f"(jsonschema {validator_class.__name__})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
