"""Render meta.yaml the way conda-build does, for linux-64 and one variant.

Supported: line selectors (``# [expr]``), Jinja2 with StrictUndefined, the
variant values, ``compiler``, ``stdlib``, ``pin_subpackage``, ``pin_compatible``,
``environ`` and the ``PKG_*`` names.  Anything else is an undefined name and
fails loudly rather than rendering something conda-build would not.

The build string follows conda-build's rules (``build_id`` below); PKG_HASH is our
own digest of the variant keys the recipe uses, of conda-build's form ``h`` and 7
hex digits.

A recipe with ``outputs:`` (conda-build's split packages) renders one ``Rendered``
per output, each a package of its own (``Rendered.outputs``): its name, version,
build number and string, requirements, test and about (the recipe's about under
its own). ``pin_subpackage`` names any output of the recipe. Outputs select their
files from the one build with ``files:`` (globs under the prefix); an output
without files is a metapackage. An output ``script:`` is not supported and is an
error that says so.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
import yaml

from . import BuildError

TARGET_PLATFORM = "linux-64"
# Names a selector may use besides the variant keys.
PLATFORM_NAMES = {
    "linux": True, "unix": True, "x86_64": True, "linux64": True, "x86": True,
    "osx": False, "win": False, "aarch64": False, "arm64": False, "ppc64le": False,
    "target_platform": TARGET_PLATFORM,
}  # fmt: skip
SELECTOR = re.compile(r"^(?P<line>.*?)\s*#\s*\[(?P<expr>.+)\]\s*$")
DEFAULT_COMPILERS = {"c": "gcc", "cxx": "gxx", "fortran": "gfortran"}
# While conda-build renders a recipe it is not yet "final", and its Jinja context
# (conda_build/environ.py, meta_vars) holds these stand-ins for PKG_HASH and
# PKG_BUILD_STRING; the real values exist only once rendering is done.
RENDER_PKG_HASH = "1234567"
RENDER_BUILD_STRING = "placeholder"
HASH_LENGTH = 7  # conda-build's default hash_length


class _StringLoader(yaml.SafeLoader):
    """SafeLoader that keeps numbers as strings, so version 3.10 stays "3.10"."""


_NUMBERS = ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")
_StringLoader.yaml_implicit_resolvers = {
    first: [r for r in resolvers if r[0] not in _NUMBERS]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_yaml(text: str, what: str):
    try:
        return yaml.load(text, Loader=_StringLoader)  # a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise BuildError(f"{what} is not valid YAML: {' '.join(str(exc).split())}") from None


def apply_selectors(text: str, names: dict, what: str) -> str:
    """Drop lines whose ``# [expr]`` is false; strip the selector from the others."""
    kept = []
    for number, line in enumerate(text.splitlines(), 1):
        match = SELECTOR.match(line)
        if match:
            try:
                keep = eval(match["expr"], {"__builtins__": {}}, names)
            except (NameError, SyntaxError, TypeError, ValueError, AttributeError) as exc:
                raise BuildError(
                    f"{what}:{number}: cannot evaluate selector [{match['expr']}]: {exc}"
                ) from None
            if not keep:
                continue
            line = match["line"]
        kept.append(line)
    return "\n".join(kept) + "\n"


def selector_names(variant: dict) -> dict:
    names = {**variant, **PLATFORM_NAMES}
    if "python" in variant:  # conda-build's `py`, e.g. 311 for python 3.11
        names["py"] = int("".join(variant["python"].split(".")[:2]))
    return names


def load_variant_values(config: Path | None, overrides: dict[str, str]) -> dict[str, list[str]]:
    """Every value of every key of conda_build_config.yaml; an override fixes one."""
    values: dict[str, list[str]] = {}
    if config is not None:
        text = apply_selectors(config.read_text(), selector_names({}), str(config))
        for key, value in (load_yaml(text, str(config)) or {}).items():
            items = value if isinstance(value, list) else [value]
            if items and all(isinstance(v, str | bool) for v in items):  # skips zip_keys, ...
                values[key] = [str(v) for v in items]
    values.update({key: [value] for key, value in overrides.items()})
    return values


def load_variant(config: Path | None, overrides: dict[str, str]) -> dict[str, str]:
    """First value of every key of conda_build_config.yaml, then the overrides."""
    return {key: items[0] for key, items in load_variant_values(config, overrides).items()}


def recipe_variants(recipe_dir: Path, values: dict[str, list[str]]) -> list[dict[str, str]]:
    """One variant per combination of the values of the keys the recipe uses, as
    conda-build builds them (zip_keys are not supported)."""
    first = {key: items[0] for key, items in values.items()}
    used = render_recipe(recipe_dir, first).used_keys
    variants = [first]
    for key in used:
        variants = [{**v, key: value} for v in variants for value in values[key]]
    return variants


def _pin(version: str, min_pin: str | None, max_pin: str | None) -> str:
    """conda-build's pin expression: 3.1.3 with max_pin='x' gives >=3.1.3,<4.0a0."""
    parts = version.split(".")
    bounds = []
    if min_pin:
        bounds.append(">=" + ".".join(parts[: len(min_pin.split("."))]))
    if max_pin:
        upper = parts[: min(len(max_pin.split(".")), len(parts))]
        if not upper[-1].isdigit():
            raise BuildError(f"cannot pin version {version!r}: only numeric components supported")
        upper[-1] = str(int(upper[-1]) + 1)
        bounds.append("<" + ".".join(upper) + ".0a0")
    return ",".join(bounds)


def _with_star(name: str, version: str | None) -> str:
    """A variant version as a spec, as conda-build's ensure_valid_spec writes it: a
    bare version (letters, digits, dots) matches its whole series, 12 -> 12.*."""
    if not version:
        return name
    return f"{name} {version}.*" if re.fullmatch(r"[0-9A-Za-z.]+", version) else f"{name} {version}"


def build_id(string: str | None, number: str, head: str, pkg_hash: str) -> str:
    """The build string conda-build gives a package (conda_build/metadata.py, build_id).

    ``string`` is build/string as rendered (PKG_HASH was RENDER_PKG_HASH then), ``head``
    the raw recipe text before requirements/test/about/extra/outputs with the
    selectors applied, ``pkg_hash`` the real hash (``h`` + 7 hex, or empty).
    - A build/string is kept as rendered, unless the raw text writes ``h{{ PKG_HASH }}``:
      so ``gpl_{{ PKG_HASH }}_0`` gives ``gpl_1234567_0`` under conda-build.
    - Otherwise (no build/string, or ``h{{ PKG_HASH }}`` written), every ``h`` + 7 hex
      digits in the string becomes the hash; a string without any gets the hash
      inserted before its last ``_``-part (``0`` gives ``h1a2b3c4_0``).
    """
    if string and not re.search(r"h\{\{\s*PKG_HASH\s*\}\}", head):
        bad = set("=@#$%^&*:;\"'\\|<>?/ -!") & set(string)
        if bad:  # conda-build's check_bad_chrs for build/string
            raise BuildError(f"bad character(s) ({''.join(sorted(bad))}) in build/string: "
                             f"{string}")  # fmt: skip
        return string
    out = string or number
    placeholder = re.compile(f"h[0-9a-f]{{{HASH_LENGTH}}}")
    if placeholder.search(out):
        return placeholder.sub(pkg_hash, out)
    first, *rest = out.rsplit("_", 1)
    if first.isdigit():
        first = f"{pkg_hash}_{first}" if pkg_hash else first
    else:
        first += pkg_hash
    return "_".join([first, *rest])


def _recipe_head(text: str) -> str:
    """The part of a recipe before its requirements/test/extra/about/outputs sections:
    where conda-build looks for ``h{{ PKG_HASH }}`` (extract_package_and_build_text)."""
    match = re.search(r"^(?:requirements|test|extra|about|outputs):", text, re.MULTILINE)
    return text[: match.start()] if match else text


@dataclass
class Rendered:
    recipe_dir: Path
    variant: dict[str, str]
    text: str  # rendered meta.yaml
    meta: dict
    used_keys: list[str]
    pkg_hash: str
    info: dict[str, str] = field(default_factory=dict)  # PKG_NAME, PKG_VERSION, ...

    # The packages this recipe makes: itself, or one Rendered per output.
    outputs: list[Rendered] = field(default_factory=list)
    # name -> (version, build string) of each output, for pin_subpackage
    siblings: dict[str, tuple[str, str]] = field(default_factory=dict)
    first_pass: bool = True
    parent: Rendered | None = None  # for an output: the recipe it belongs to

    name = property(lambda self: self.info["PKG_NAME"])
    version = property(lambda self: self.info["PKG_VERSION"])
    build_string = property(lambda self: self.info["PKG_BUILD_STRING"])

    @property
    def noarch(self) -> str | None:
        """build/noarch: "python" or "generic", or None for a platform package."""
        value = (self.meta.get("build") or {}).get("noarch")
        return str(value) if value else None

    @property
    def skip(self) -> bool:
        """build/skip, as the selectors left it for this platform and variant: conda-build
        builds nothing then, and says so."""
        return str((self.meta.get("build") or {}).get("skip", "")).lower() in ("true", "yes", "1")

    @property
    def packages(self) -> list[Rendered]:
        """What this recipe packs: each output, or the recipe itself."""
        return self.outputs or [self]

    def package(self, name: str) -> Rendered:
        for found in self.packages:
            if found.name == name:
                return found
        raise BuildError(f"{self.recipe_dir.name} makes no package named {name}")


def used_variant_keys(meta_text: str, build_sh: str, variant: dict) -> list[str]:
    """Variant keys named in Jinja expressions, selectors, compiler() calls or build.sh."""
    exprs = re.findall(r"{[{%](.*?)[%}]}", meta_text, re.DOTALL)
    exprs += [m["expr"] for m in map(SELECTOR.match, meta_text.splitlines()) if m]
    words = set(re.findall(r"[A-Za-z_]\w*", " ".join(exprs)))
    words |= set(re.findall(r"\$\{?([A-Za-z_]\w*)", build_sh))
    for kind, lang in re.findall(r"(compiler|stdlib)\(\s*['\"](\w+)['\"]", meta_text):
        words |= {f"{lang}_{kind}", f"{lang}_{kind}_version"}
    return sorted(k for k in variant if k in words)


def _context(r: Rendered) -> dict:
    # conda-build's compiler() and stdlib() (jinja_context.py, _target): the package
    # {<lang>_compiler}_<target> or {<lang>_stdlib}_<target>, at the variant's
    # <lang>_compiler_version or <lang>_stdlib_version. Without a variant value, a
    # compiler falls back to the platform's default (gcc, gxx) and a stdlib to the
    # language's name (c_linux-64).
    def compiler(lang: str) -> str:
        name = r.variant.get(f"{lang}_compiler", DEFAULT_COMPILERS.get(lang, lang))
        return _with_star(f"{name}_{TARGET_PLATFORM}", r.variant.get(f"{lang}_compiler_version"))

    def stdlib(lang: str) -> str:
        name = r.variant.get(f"{lang}_stdlib", lang)
        return _with_star(f"{name}_{TARGET_PLATFORM}", r.variant.get(f"{lang}_stdlib_version"))

    def pin_subpackage(name, min_pin="x.x.x.x.x.x", max_pin="x", exact=False):
        known = {r.info["PKG_NAME"]: (r.version, r.build_string), **r.siblings}
        if name not in known:
            if r.first_pass:
                return name  # the names and build strings are not known yet
            raise BuildError(f"pin_subpackage({name!r}): the recipe makes no package of that "
                             f"name (it makes {', '.join(sorted(known))})")  # fmt: skip
        version, string = known[name]
        if exact:
            return f"{name} {version} {string}"
        return f"{name} {_pin(version, min_pin, max_pin)}"

    def pin_compatible(name, lower_bound=None, upper_bound=None, min_pin="x.x.x.x.x.x",
                       max_pin="x", exact=False):  # fmt: skip
        # conda-build reads the version from the host environment; we have none,
        # so the variant (e.g. `numpy: 2`) stands in for it.
        version = lower_bound or r.variant.get(name) or r.variant.get(name.replace("-", "_"))
        if not version:
            raise BuildError(f"pin_compatible({name!r}): no variant value gives its version")
        if exact:
            return f"{name} {version}"
        if upper_bound:
            return f"{name} >={version},<{upper_bound}"
        return f"{name} {_pin(version, min_pin, max_pin)}"

    def load_file_regex(load_file, regex_pattern, from_recipe_dir=False, recipe_dir=None):
        # conda-build's: the first match of regex_pattern in load_file (re.Match), or
        # None. Offline there is no source tree at render time, so the file is read
        # relative to the recipe directory, which conda-build does with from_recipe_dir.
        if not from_recipe_dir:
            raise BuildError(f"load_file_regex({load_file!r}): the offline runner renders "
                             "before any source is unpacked; pass from_recipe_dir=True "
                             "and a path relative to the recipe")  # fmt: skip
        path = Path(recipe_dir or r.recipe_dir) / load_file
        if not path.is_file():
            raise BuildError(f"load_file_regex: {path} not found")
        return re.search(regex_pattern, path.read_text())

    return {
        **r.variant, **r.info, "PKG_HASH": RENDER_PKG_HASH,
        "load_file_regex": load_file_regex,
        "PKG_BUILD_STRING": RENDER_BUILD_STRING, "target_platform": TARGET_PLATFORM,
        "environ": os.environ, "compiler": compiler, "stdlib": stdlib,
        "pin_subpackage": pin_subpackage, "pin_compatible": pin_compatible,
    }  # fmt: skip


def _jinja(text: str, context: dict) -> str:
    env = jinja2.Environment(
        undefined=jinja2.StrictUndefined,
        loader=jinja2.FunctionLoader(lambda name: (text, name, lambda: True)),
        keep_trailing_newline=True,
    )
    try:
        return env.get_template("meta.yaml").render(context)
    except jinja2.TemplateSyntaxError as exc:
        raise BuildError(f"meta.yaml:{exc.lineno}: Jinja syntax error: {exc.message}") from None
    except jinja2.UndefinedError as exc:
        frames = traceback.extract_tb(exc.__traceback__)
        lines = [f.lineno for f in frames if f.filename == "meta.yaml"]
        where = f"meta.yaml:{lines[-1]}" if lines else "meta.yaml"
        raise BuildError(
            f"{where}: {exc.message} (not a variant in conda_build_config.yaml, not set in "
            "the recipe, and not one of the conda-build names this runner provides)"
        ) from None


def _pkg_hash(used: dict[str, str]) -> str:
    """Our PKG_HASH: ``h`` and the first 7 hex digits of the sha1 of the used variant
    values as sorted JSON; empty when the recipe uses no variant key. conda-build's
    (metadata.py, hash_dependencies) is of the same form over a similar input: the
    used variant keys minus python/perl/lua/r_base and build-only keys, plus the
    virtual packages in run. Only the form is something a recipe can observe."""
    if not used:
        return ""
    return "h" + hashlib.sha1(json.dumps(used, sort_keys=True).encode()).hexdigest()[:HASH_LENGTH]


def render_recipe(recipe_dir: Path, variant: dict[str, str]) -> Rendered:
    recipe_dir = recipe_dir.resolve()
    meta_path = recipe_dir / "meta.yaml"
    if not meta_path.is_file():
        raise BuildError(f"{meta_path} not found")
    build_sh = recipe_dir / "build.sh"
    source = meta_path.read_text()
    used = used_variant_keys(source, build_sh.read_text() if build_sh.is_file() else "", variant)
    text = apply_selectors(source, selector_names(variant), "meta.yaml")
    r = Rendered(recipe_dir, variant, "", {}, used, _pkg_hash({k: variant[k] for k in used}))
    r.info = {"PKG_NAME": "", "PKG_VERSION": "", "PKG_BUILDNUM": "0",
              "PKG_BUILD_STRING": RENDER_BUILD_STRING}  # fmt: skip
    head = _recipe_head(text)
    for _ in range(4):  # re-render until names, versions, numbers and build strings settle
        r.text = _jinja(text, _context(r))
        r.meta = load_yaml(r.text, "rendered meta.yaml") or {}
        package, build = r.meta.get("package") or {}, r.meta.get("build") or {}
        number = str(build.get("number", 0))
        string = str(build["string"]) if build.get("string") else None
        info = {
            "PKG_NAME": str(package.get("name", "")),
            "PKG_VERSION": str(package.get("version", "")),
            "PKG_BUILDNUM": number,
            "PKG_BUILD_STRING": build_id(string, number, head, r.pkg_hash),
        }
        siblings = {o["name"]: (o["version"], o["string"]) for o in _output_ids(r, info, text)}
        if info == r.info and siblings == r.siblings and not r.first_pass:
            break
        r.info, r.siblings, r.first_pass = info, siblings, False
    else:
        raise BuildError("meta.yaml: rendering does not settle (name/version/build string)")
    if string and string != r.build_string:
        # What conda-build writes into the package's info/recipe/meta.yaml: the final string.
        r.meta["build"]["string"] = r.build_string
        r.text = re.sub(rf"^(\s+string:\s*)['\"]?{re.escape(string)}['\"]?[ \t]*$",
                        lambda m: m[1] + r.build_string, r.text, count=1,
                        flags=re.MULTILINE)  # fmt: skip
    if not (r.name and r.version):
        raise BuildError("meta.yaml: package.name and package.version are required")
    r.outputs = [_output(r, o) for o in _outputs(r)]
    return r


def _outputs(r: Rendered) -> list[dict]:
    outputs = r.meta.get("outputs") or []
    if not isinstance(outputs, list) or not all(isinstance(o, dict) for o in outputs):
        raise BuildError("meta.yaml: outputs must be a list of mappings")
    for o in outputs:
        if not o.get("name"):
            raise BuildError("meta.yaml: every output needs a name")
        if o.get("script"):
            raise BuildError(f"meta.yaml: output {o['name']}: an output script is not supported "
                             "by the offline runner; select the output's files from the "
                             "recipe's build with files: (globs under the prefix)")  # fmt: skip
    return outputs


def _output_ids(r: Rendered, info: dict[str, str], text: str) -> list[dict[str, str]]:
    """name, version and build string of each output, as this pass renders them."""
    found = []
    for o in _outputs(r):
        build = o.get("build") or {}
        number = str(build.get("number", info["PKG_BUILDNUM"]))
        string = str(build["string"]) if build.get("string") else None
        found.append({"name": str(o["name"]), "version": str(o.get("version") or info["PKG_VERSION"]),
                      "string": build_id(string, number, text, r.pkg_hash)})  # fmt: skip
    return found


def _output(r: Rendered, o: dict) -> Rendered:
    """One output as a package of its own: its own build, requirements and test; the
    recipe's source, about (under the output's) and extra."""
    name = str(o["name"])
    version, string = r.siblings[name]
    build = dict(o.get("build") or {})
    build.setdefault("number", int(r.info["PKG_BUILDNUM"]))
    build["string"] = string
    meta = {
        "package": {"name": name, "version": version},
        "source": r.meta.get("source"),
        "build": build,
        "requirements": o.get("requirements") or {},
        "test": o.get("test") or {},
        "about": {**(r.meta.get("about") or {}), **(o.get("about") or {})},
        "extra": r.meta.get("extra") or {},
        "files": o.get("files") or [],
    }
    info = {"PKG_NAME": name, "PKG_VERSION": version, "PKG_BUILDNUM": str(build["number"]),
            "PKG_BUILD_STRING": string}  # fmt: skip
    return Rendered(r.recipe_dir, r.variant, r.text, meta, r.used_keys, r.pkg_hash, info,
                    siblings=r.siblings, first_pass=False, parent=r)  # fmt: skip
