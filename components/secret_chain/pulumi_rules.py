"""Faithful ports of the rules the Pulumi CLI and pulumi-kubernetes apply to what this package writes.

Every config key, fix command and environment reference the package prints is checked against these
ports (tests/test_pulumi_rules.py runs each against the cases of the upstream tests it names), so a
key or command that the real CLI would refuse cannot ship. Each function cites the upstream source it
ports; none of them adds a rule of ours.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

PathElement = str | int


class RuleError(ValueError):
    """The upstream code returns an error for this input; the message is upstream's own wording."""


@dataclass(frozen=True)
class ConfigKey:
    """A parsed config key: ``namespace`` and ``name`` (pulumi/pulumi sdk/go/common/resource/config/key.go ``Key``)."""

    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.namespace}:{self.name}"


def parse_key(text: str) -> ConfigKey:
    """``config.ParseKey`` (pulumi/pulumi sdk/go/common/resource/config/key.go).

    ``<namespace>:<name>``, or the legacy ``<namespace>:config:<name>``; the parts may be any characters
    but ``:``. Anything else is refused, e.g. ``namespace:imagePullSecret:token`` (the middle part is not
    ``config``). The CLI applies it to every stack-config key and, through ``parseConfigKey`` in
    pkg/workspace/config.go, to every key of an ESC environment's ``pulumiConfig``.
    """
    colons = text.count(":")
    if colons == 1:
        namespace, name = text.split(":", 1)
        return ConfigKey(namespace, name)
    if colons == 2:
        # tokens.ParseModuleMember (sdk/go/common/tokens/tokens.go) accepts any string with two or more
        # delimiters; ParseKey then keeps it only when the module part is "config".
        package, module, member = text.split(":")
        if module == "config":
            return ConfigKey(package, member)
    raise RuleError(f"could not parse {text} as a configuration key (configuration keys should be of the form `<namespace>:<name>`)")


def parse_property_path(path: str) -> list[PathElement]:
    """``resource.ParsePropertyPath`` (pulumi/pulumi sdk/go/common/resource/properties_path.go).

    Used by ``pulumi env set <env> <path> <value>`` (pulumi/esc cmd/esc/cli/env_set.go) and, on the name
    part of a key, by ``pulumi config set --path`` (config/map.go ``parseKeyPath``). A bare segment runs
    to the next ``.`` or ``[``; ``["…"]`` quotes a key that holds either.
    """
    elements: list[PathElement] = []
    while path:
        if path[0] == ".":
            path = path[1:]
        elif path[0] == "[":
            element: PathElement
            if len(path) > 1 and path[1] == '"':
                key: list[str] = []
                i = 2
                while True:
                    if i >= len(path):
                        raise RuleError("missing closing quote in property name")
                    if path[i] == '"':
                        i += 1
                        break
                    if path[i] == "\\" and i + 1 < len(path) and path[i + 1] == '"':
                        key.append('"')
                        i += 2
                    else:
                        key.append(path[i])
                        i += 1
                if i >= len(path) or path[i] != "]":
                    raise RuleError("missing closing bracket in property access")
                element, path = "".join(key), path[i:]
            else:
                rbracket = path.find("]")
                if rbracket == -1:
                    raise RuleError("missing closing bracket in array index")
                segment = path[1:rbracket]
                if segment == "*":
                    element = "*"
                else:
                    try:
                        element = _go_parse_int(segment)
                    except ValueError:
                        raise RuleError("invalid array index") from None
                path = path[rbracket:]
            elements.append(element)
            path = path[1:]
        else:
            i = 0
            while i < len(path) and path[i] not in ".[":
                i += 1
            elements.append(path[:i])
            path = path[i:]
    return elements


def _go_parse_int(text: str) -> int:
    """``strconv.ParseInt(text, 10, 0)``: an optional sign and decimal digits, nothing else (no spaces, no ``_``)."""
    body = text[1:] if text[:1] in "+-" else text
    if not body or not body.isascii() or not body.isdigit():
        raise ValueError(text)
    return int(text)


def parse_key_path(text: str) -> tuple[ConfigKey, list[PathElement]]:
    """What ``pulumi config set --path KEY`` stores: the config key and the path inside its value.

    ``ParseKey`` on the whole text, then ``parseKeyPath`` (sdk/go/common/resource/config/map.go): the
    name part is a property path whose first element (a non-empty string) becomes the key's name.
    """
    key = parse_key(text)
    path = parse_property_path(key.name)
    if not path:
        raise RuleError("empty config key path")
    first = path[0]
    if not isinstance(first, str):
        raise RuleError("first path segement of config key must be a string")
    if first == "":
        raise RuleError("config key is empty")
    return ConfigKey(key.namespace, first), path


DEFAULT_ESC_PROJECT = "default"
"""``client.DefaultProject`` (pulumi/esc cmd/esc/cli/client): the project of a legacy ``<org>/<env>`` environment."""


@dataclass(frozen=True)
class EnvironmentRef:
    """An ESC environment reference as the CLI's ``parseRef`` reads it (pulumi/esc cmd/esc/cli/env.go)."""

    org: str | None
    """None: the account's default org (the reference did not name one)."""
    project: str
    env: str
    version: str
    ambiguous: bool
    """Two parts: read as ``<project>/<env>``; the CLI falls back to the legacy ``<org>/default/<env>`` only
    when that one exists, and refuses the reference when both exist."""
    legacy: bool
    """One part: ``default/<env>`` in the default org, with a deprecation warning."""


def parse_env_ref(text: str) -> EnvironmentRef:
    """``envCommand.parseRef`` (pulumi/esc cmd/esc/cli/env.go, vendored as pulumi/pulumi pkg/cmd/esc/cli/env.go).

    One part: ``<env>`` (legacy); two: ``<project>/<env>`` (ambiguous with the legacy ``<org>/<env>``);
    three or more: ``<org>/<project>/<env>``, the rest joined without separators. A version follows
    ``@`` (or ``:``). An ESC definition's ``imports`` and a stack file's ``environment`` list name
    environments the same way, relative to their own org (ESC docs, "Importing environments").
    """
    parts = text.split("/")
    org: str | None = None
    project = DEFAULT_ESC_PROJECT
    ambiguous = legacy = False
    if len(parts) == 1:
        rest, legacy = parts[0], True
    elif len(parts) == 2:
        project, rest, ambiguous = parts[0], parts[1], True
    else:
        org, project, rest = parts[0], parts[1], "".join(parts[2:])
    env, sep, version = rest.partition("@")
    if not sep:
        env, _, version = rest.partition(":")
    return EnvironmentRef(org, project, env, version, ambiguous, legacy)


def provider_flag_enabled(config_value: str | None, env_value: str | None) -> bool:
    """A pulumi-kubernetes boolean flag (``enableSecretMutable`` and its kin), as ``Configure`` reads it.

    pulumi/pulumi-kubernetes provider/pkg/provider/provider.go: if the config variable exists, the flag
    is on exactly when it is the string ``"true"``; only when it does not exist is the environment
    variable read, with the same rule; otherwise off. So ``True``, ``1`` or ``" true"`` mean off, and a
    config value of anything but ``true`` wins over an environment variable of ``true``.
    """
    if config_value is not None:
        return config_value == "true"
    if env_value is not None:
        return env_value == "true"
    return False


def esc_interpolation(text: str) -> list[str | int]:
    r"""The accessors of an ESC string that is exactly one ``${…}`` (a symbol), as pulumi/esc reads it.

    A port of ``propertyAccessParser`` (pulumi/esc ast/property.go): a bare name runs until ``.``, ``[``, ``}`` or
    whitespace; ``["…"]`` is a key (``\\"`` escapes a quote); ``[n]`` an index. Raises ``ValueError`` with the
    parser's own diagnostic where it reports one, and when anything but one interpolation is given (ast/expr.go
    ``ParseExpr`` makes a symbol only of a string that is one ``${…}`` and nothing else).
    """
    if not text.startswith("${"):
        raise ValueError("not an interpolation")
    rest, accessors = text[2:], list[str | int]()

    def terminates(c: str) -> bool:
        return c in ".[}" or c.isspace()

    def name() -> str:
        nonlocal rest
        taken = ""
        while rest and not terminates(rest[0]):
            taken, rest = taken + rest[0], rest[1:]
        if not taken:
            raise ValueError("property name must not be empty")
        return taken

    while True:
        if not rest:
            raise ValueError("missing closing brace '}' in interpolation")
        c = rest[0]
        if c == "}":
            rest = rest[1:]
            break
        if c == ".":
            rest = rest[1:]
            accessors.append(name())
        elif c == "[":
            rest = rest[1:]
            if rest.startswith('"'):
                rest, key = rest[1:], ""
                while True:
                    if not rest:
                        raise ValueError("key subscript is missing closing quote '\"'")
                    ch, rest = rest[0], rest[1:]
                    if ch == '"':
                        if not key:
                            raise ValueError("key subscript must not be empty")
                        break
                    if ch == "\\" and rest.startswith('"'):
                        ch, rest = '"', rest[1:]
                    key += ch
                accessors.append(key)
            else:
                digits = ""
                while rest and rest[0] != "]" and not terminates(rest[0]):
                    digits, rest = digits + rest[0], rest[1:]
                if not digits.isdigit():
                    raise ValueError("numeric subscript must be a positive base-10 integer")
                if not accessors:
                    raise ValueError("the first accessor must be a property name or key subscript, not a numeric subscript")
                accessors.append(int(digits))
            if not rest.startswith("]"):
                raise ValueError("subscript is missing closing bracket ']'")
            rest = rest[1:]
        elif c.isspace():
            raise ValueError("missing closing brace '}' in interpolation")
        else:
            accessors.append(name())
    if rest:
        raise ValueError("text follows the interpolation: it would be a string, not a symbol")
    return accessors


class _Empty:
    """A node ``yamlNode.set`` has just appended to a mapping or sequence (``yaml.Node{}``, ``Kind`` 0)."""

    def __repr__(self) -> str:
        return "<empty node>"


EMPTY_NODE = _Empty()


def property_path_string(path: Sequence[PathElement]) -> str:
    """``resource.PropertyPath.String`` (pulumi/pulumi sdk/go/common/resource/properties_path.go), which ``%v`` prints.

    A key of only letters, digits and ``_`` is ``.key`` (bare at the start); any other key is ``["key"]``; an index is
    ``[i]``. The ESC CLI's own test prints ``string.bar``, ``object[0]`` and ``array.foo`` this way (pulumi/pulumi
    pkg/cmd/esc/cli/testdata/env-set-invalid.yaml).
    """
    out = ""
    for i, part in enumerate(path):
        if isinstance(part, int):
            out += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z0-9_]*", part):
            out += part if i == 0 else f".{part}"
        else:
            out += '["' + part.replace('"', '\\"') + '"]'
    return out




def yaml_set(node: object, prefix: list[PathElement], path: list[PathElement], new: object) -> object:
    """``yamlNode.set`` of pulumi/pulumi pkg/cmd/esc/cli/env_set.go, on decoded YAML.

    The same code as pulumi/esc syntax/encoding/yaml.go ``YAMLSyntax.Set``: a dict is a mapping node, a list a
    sequence node, anything else a scalar. Returns the node that takes ``node``'s place. An empty path replaces the
    node whatever it was (so a string that is an ESC interpolation is overwritten, not followed); a path through a
    scalar fails with ``expected an array or an object``.
    """
    if not path:
        return new
    head, prefix = path[0], [*prefix, path[0]]
    if node is EMPTY_NODE:
        # case 0: the accessor decides the kind, then the same node is set again
        return yaml_set([] if isinstance(head, int) else {}, prefix[:-1], path, new)
    if isinstance(node, list):
        if not isinstance(head, int):
            raise RuleError(f"{property_path_string(prefix)}: key for an array must be an int")
        if head < 0 or head > len(node):
            raise RuleError(f"{property_path_string(prefix)}: array index out of range")
        if head == len(node):
            node.append(EMPTY_NODE)
        node[head] = yaml_set(node[head], prefix, path[1:], new)
        return node
    if isinstance(node, dict):
        if not isinstance(head, str):
            raise RuleError(f"{property_path_string(prefix)}: key for a map must be a string")
        node[head] = yaml_set(node.get(head, EMPTY_NODE), prefix, path[1:], new)
        return node
    raise RuleError(f"{property_path_string(prefix)}: expected an array or an object")


def esc_env_set(definition: object, path: str, value: object, *, secret: bool = False) -> dict[str, object]:
    """The definition ``pulumi env set <env> <path> <value> [--secret]`` stores, from the one it fetched.

    A port of ``newEnvSetCmd``'s ``RunE`` (pulumi/pulumi pkg/cmd/esc/cli/env_set.go): the path is a property path
    (:func:`parse_property_path`), ``--secret`` wraps the value as ``{"fn::secret": value}``, a path that starts with
    ``imports`` edits the document's root and any other one the ``values`` mapping (created when absent), with
    ``yamlNode.set``. ``value`` is the already-decoded YAML value (the CLI ``yaml.Unmarshal``s its argument). The
    definition is copied, never changed; a :class:`RuleError` carries the CLI's own message.
    """
    import copy

    try:
        elements = parse_property_path(path)
    except RuleError as err:
        raise RuleError(f"invalid path: {err}") from None  # env_set.go: fmt.Errorf("invalid path: %w", err)
    if not elements:
        raise RuleError("path must contain at least one element")
    new = {"fn::secret": value} if secret else value
    document: object = copy.deepcopy(definition) if isinstance(definition, dict) else EMPTY_NODE
    if elements[0] == "imports":
        result = yaml_set(document, [], elements, new)
    else:
        root = document if isinstance(document, dict) else {}
        values = root.get("values", EMPTY_NODE)
        if values is EMPTY_NODE:
            values = {}
        root["values"] = yaml_set(values, [], elements, new)
        result = root
    assert isinstance(result, dict)
    return result


@dataclass(frozen=True)
class EnvSetCommand:
    """A ``pulumi env set`` command line as the ESC CLI parses it (:func:`parse_env_set`)."""

    environment: str
    path: str
    value: str | None
    """The value argument (``args[1]``), None when there is none (``--file`` gives the value)."""
    file: str = ""
    secret: bool = False
    plaintext: bool = False
    string: bool = False
    draft: str = ""


_ENV_SET_BOOLS = ("secret", "plaintext", "string")
_ENV_SET_VALUES = {"file": "", "draft": "new"}
"""The flags of ``pulumi env set`` that take a value, with their ``NoOptDefVal`` (``--draft`` alone means ``new``)."""


def parse_env_set(argv: Sequence[str]) -> EnvSetCommand:
    """The arguments after ``pulumi env set`` as cobra and spf13/pflag parse them for ``newEnvSetCmd``.

    The flags are env_set.go's own: ``--secret``, ``--plaintext``, ``--string`` (booleans: ``--secret`` or
    ``--secret=true``), ``--file``/``-f`` (a value: ``--file X``, ``--file=X``, ``-f X``, ``-fX``) and ``--draft``
    (``NoOptDefVal`` "new": alone it takes no value). pflag (flag.go ``parseArgs``): ``--`` ends the flags, a lone ``-``
    is an argument, flags and arguments may be interleaved, a value flag at the end is ``flag needs an argument``, an
    unknown one ``unknown flag``. ``Args: cobra.RangeArgs(1, 3)``: the environment, the path and the value.
    """
    flags: dict[str, object] = {}
    args: list[str] = []
    rest = list(argv)
    while rest:
        arg = rest.pop(0)
        if arg == "--":
            args += rest
            break
        if not arg.startswith("-") or arg == "-":
            args.append(arg)
            continue
        if arg.startswith("--"):
            name, eq, value = arg[2:].partition("=")
            if name in _ENV_SET_BOOLS:
                if eq and value not in ("true", "false", "1", "0", "t", "f", "TRUE", "FALSE", "True", "False", "T", "F"):
                    raise RuleError(f'invalid argument "{value}" for "--{name}" flag: strconv.ParseBool: parsing "{value}": invalid syntax')
                flags[name] = not eq or value in ("true", "1", "t", "TRUE", "True", "T")
            elif name in _ENV_SET_VALUES:
                if not eq and _ENV_SET_VALUES[name]:
                    value = _ENV_SET_VALUES[name]
                elif not eq:
                    if not rest:
                        raise RuleError(f"flag needs an argument: --{name}")
                    value = rest.pop(0)
                flags[name] = value
            else:
                raise RuleError(f"unknown flag: --{name}")
            continue
        short, value = arg[1:2], arg[2:].removeprefix("=")
        if short != "f":
            raise RuleError(f"unknown shorthand flag: '{short}' in {arg}")
        if not value:
            if not rest:
                raise RuleError("flag needs an argument: 'f' in -f")
            value = rest.pop(0)
        flags["file"] = value
    if not 1 <= len(args) <= 3:
        raise RuleError(f"accepts between 1 and 3 arg(s), received {len(args)}")
    return EnvSetCommand(
        environment=args[0],
        path=args[1] if len(args) > 1 else "",
        value=args[2] if len(args) > 2 else None,
        file=str(flags.get("file", "")),
        secret=bool(flags.get("secret", False)),
        plaintext=bool(flags.get("plaintext", False)),
        string=bool(flags.get("string", False)),
        draft=str(flags.get("draft", "")),
    )


def env_set_value(command: EnvSetCommand, *, stdin: bytes = b"", read_file: Callable[[str], bytes] | None = None) -> object:
    """The value ``command`` stores, decoded (``{"fn::secret": …}`` with ``--secret``).

    ``newEnvSetCmd``'s ``RunE`` up to the fetch of the definition (pulumi/esc cmd/esc/cli/env_set.go; the same code in
    pulumi/pulumi pkg/cmd/esc/cli/env_set.go).

    * ``--file -`` reads standard input, ``--file PATH`` the file (``could not read file``); either must be UTF-8
      (``file content must be valid UTF-8``); without ``--file`` the value is the third argument.
    * ``--string`` takes the text as it is (``yamlValue.SetString(input)``): a PEM key keeps every line and its final
      newline. Otherwise the text is YAML (``yaml.Unmarshal``; empty is ``""``), read here with PyYAML's safe loader,
      whose YAML 1.1 differs from gopkg.in/yaml.v3 on words such as ``yes`` (not reached by any command this package
      prints, which give every secret ``--string``).
    * ``--secret`` with a scalar that is not a string re-reads ``args[1]`` quoted (``strconv.Quote(args[1])``): with
      ``--file`` there is no ``args[1]``, and the CLI panics (``index out of range``), raised here as that error.
    * Not ported: ``looksLikeSecret`` (zxcvbn entropy of a plain value under a key like ``token``), which only refuses
      a plain value without ``--secret`` or ``--plaintext``.
    """
    import yaml

    if not command.file and command.value is None:
        raise RuleError("expected a path and a value")
    if not command.path:
        raise RuleError("expected a path")
    if command.file:
        if command.file == "-":
            content = stdin
        else:
            if read_file is None:
                raise RuleError("could not read file: no file system")
            try:
                content = read_file(command.file)
            except OSError as err:
                raise RuleError(f"could not read file: {err.strerror}") from None
        try:
            text = content.decode("utf-8")
        except UnicodeDecodeError:
            raise RuleError("file content must be valid UTF-8") from None
    else:
        text = str(command.value)
    value: object
    if command.string:
        value = text
    else:
        try:
            value = yaml.safe_load(text)
        except yaml.YAMLError as err:
            raise RuleError(f"invalid value: {err}") from None
        if value is None and not text.strip():
            value = ""
    if command.secret:
        if not isinstance(value, (str, dict, list)):
            if command.value is None:
                raise RuleError("runtime error: index out of range [1] with length 1")
            value = command.value
        value = {"fn::secret": value}
    return value


def esc_env_set_command(
    definition: object, argv: Sequence[str], *, stdin: bytes = b"", read_file: Callable[[str], bytes] | None = None
) -> dict[str, object]:
    """The definition ``pulumi env set <argv…>`` stores: :func:`parse_env_set`, :func:`env_set_value`, :func:`esc_env_set`."""
    command = parse_env_set(argv)
    return esc_env_set(definition, command.path, env_set_value(command, stdin=stdin, read_file=read_file))
