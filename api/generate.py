#!/usr/bin/env python3
"""Generates include/nncore.h, bindings/python/nncore/_capi.py and the linker version script
api/exports.map from api/nncore.toml.

Usage: api/generate.py [--check]   (--check: exit 1 if a generated file is stale)

The TOML file is the C API's single source of truth; never edit the generated files by hand.
"""
import sys
import textwrap
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "api" / "nncore.toml"
HEADER = ROOT / "include" / "nncore.h"
CTYPES = ROOT / "bindings" / "python" / "nncore" / "_capi.py"
EXPORTS = ROOT / "api" / "exports.map"

THREAD_TEXT = {
    "global": "Thread safety: safe to call from any thread at any time.",
    "const": "Thread safety: may run concurrently with other calls taking a const nn_model * on the "
             "same model; returns NN_ERR_BUSY while another thread trains or changes the model.",
    "exclusive": "Thread safety: needs the model alone; returns NN_ERR_BUSY at once if another "
                 "thread is using it.",
    "graph": "Thread safety: a graph is used by one thread at a time; a call made while another thread "
             "is inside a call on the same graph returns NN_ERR_BUSY.",
    "free": "Thread safety: may be called while another thread is still inside a call on the object: "
            "the handle dies at once, and the running call finishes on its own reference.",
}

HANDLE_TYPES = {"nn_model *", "const nn_model *", "nn_graph *", "const nn_graph *"}


def load():
    with open(SPEC, "rb") as f:
        return tomllib.load(f)


def comment(text, indent=""):
    """A /** ... */ block with the text wrapped at 96 columns."""
    lines = []
    for paragraph in text.strip().split("\n\n"):
        if paragraph.startswith("  ") or "\n  " in paragraph:  # preformatted
            lines.extend(paragraph.rstrip().split("\n"))
        else:
            lines.extend(textwrap.wrap(" ".join(paragraph.split()), 92 - len(indent)) or [""])
        lines.append("")
    while lines and lines[-1] == "":
        lines.pop()
    body = "\n".join(f"{indent} *{(' ' + l) if l else ''}" for l in lines)
    return f"{indent}/**\n{body}\n{indent} */\n"


def names(params):
    """'a', 'a or b', 'a, b or c'."""
    words = [p["name"] for p in params]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def implied_errors(function):
    """Statuses every function of a kind can return, derived from its parameters."""
    errors = []
    params = function.get("params", [])
    handles = [p for p in params if p["type"] in HANDLE_TYPES]
    pointers = [p for p in params if p["type"].endswith("*") and p["type"] not in HANDLE_TYPES
                and "may be NULL" not in p["doc"] and "or NULL" not in p["doc"]]
    if handles or pointers:
        errors.append("NN_ERR_NULL_POINTER: " + names(handles + pointers) + " is NULL.")
    if handles:
        errors.append("NN_ERR_INVALID_HANDLE: " + names(handles) + " is freed, forged or of the wrong kind.")
    if function.get("thread") in ("const", "exclusive"):
        errors.append("NN_ERR_BUSY: another thread is using the model in a conflicting way.")
    if function.get("thread") == "graph" and handles:
        errors.append("NN_ERR_BUSY: another thread is inside a call on the graph.")
    return errors


def function_doc(function, version):
    """The lines of a function's documentation: summary and details, then @-lines."""
    text = function["summary"]
    if "details" in function:
        text += "\n\n" + function["details"]
    lines = [text, ""]
    for p in function.get("params", []):
        lines.append(f"@param {p['name']} [{p['dir']}] {p['doc']}")
    if function["returns"] == "nn_status":
        explicit = function.get("errors", [])
        named = " ".join(explicit)
        errors = explicit + [e for e in implied_errors(function) if e.split(":")[0] not in named]
        lines.append("@return NN_OK on success; otherwise (out-parameters untouched):")
        for e in errors:
            lines.append(f"  - {e}")
    elif function["returns"] != "void":
        lines.append(f"@return {function.get('return_doc', 'See above.')}")
    lines.append(THREAD_TEXT[function["thread"]])
    lines.append(f"@since {function.get('since', version)}")
    return lines


def render_function_comment(function, version):
    lines = function_doc(function, version)
    summary = lines[0]
    rest = lines[2:]
    wrapped = []
    for paragraph in summary.split("\n\n"):
        wrapped.extend(textwrap.wrap(" ".join(paragraph.split()), 92) or [""])
        wrapped.append("")
    for line in rest:
        if line.startswith("  - "):
            wrapped.extend(textwrap.wrap(line, 92, subsequent_indent="      "))
        else:
            wrapped.extend(textwrap.wrap(line, 92, subsequent_indent="    ") or [""])
    body = "\n".join(f" *{(' ' + l) if l else ''}" for l in wrapped)
    return f"/**\n{body}\n */\n"


def c_param(p):
    t = p["type"]
    return f"{t}{p['name']}" if t.endswith("*") else f"{t} {p['name']}"


def header(spec):
    lib = spec["library"]
    major, minor, patch = lib["major"], lib["minor"], lib["patch"]
    version = f"{major}.{minor}"
    out = []
    out.append("/* nncore.h — the C API of nncore. GENERATED from api/nncore.toml by api/generate.py:"
               " do not edit. */\n")
    out.append(comment(spec["library"]["intro"]))
    out.append("#ifndef NNCORE_H\n#define NNCORE_H\n\n#include <stddef.h>\n#include <stdint.h>\n\n")
    out.append("#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n")
    out.append("/** The version of this header. @since 0.1 */\n")
    out.append(f"#define NN_VERSION_MAJOR {major}\n#define NN_VERSION_MINOR {minor}\n#define NN_VERSION_PATCH {patch}\n")
    out.append("/** NN_VERSION_MAJOR*10000 + NN_VERSION_MINOR*100 + NN_VERSION_PATCH; compare with nn_version_number(). */\n")
    out.append(f"#define NN_VERSION_NUMBER {major * 10000 + minor * 100 + patch}\n\n")

    for enum in spec["enums"]:
        out.append(comment(enum["doc"] + "\n\n@since " + enum.get("since", version)))
        out.append(f"typedef int32_t {enum['name']};\n")
        out.append("enum {\n")
        for v in enum["values"]:
            out.append(f"    /** {v['doc']} */\n    {v['name']} = {v['value']},\n")
        out.append("};\n\n")

    for opaque in spec["opaque"]:
        out.append(comment(opaque["doc"] + " Opaque: use it only through its functions.\n\n@since " + version))
        out.append(f"typedef struct {opaque['name']} {opaque['name']};\n\n")

    # Struct and callback typedefs first, so that they can refer to each other.
    for struct in spec["structs"]:
        out.append(f"typedef struct {struct['name']} {struct['name']};\n")
    out.append("\n")
    for cb in spec.get("callbacks", []):
        out.append(comment(cb["doc"] + "\n\n@since " + version))
        params = ", ".join(c_param(p) for p in cb["params"])
        out.append(f"typedef {cb['returns']} (*{cb['name']})({params});\n\n")
    for struct in spec["structs"]:
        out.append(comment(struct["doc"] + " Begins with struct_size and only grows at the end.\n\n@since " + version))
        out.append(f"struct {struct['name']} {{\n")
        for f in struct["fields"]:
            out.append(f"    /** {f['doc']} */\n    {c_param(f)};\n")
        out.append("};\n\n")

    group = None
    for function in spec["functions"]:
        if function.get("group") and function["group"] != group:
            group = function["group"]
            out.append(f"/* ---- {group} {'-' * max(0, 86 - len(group))} */\n\n")
        out.append(render_function_comment(function, version))
        params = ", ".join(c_param(p) for p in function["params"]) or "void"
        out.append(f"{function['returns']} {function['name']}({params});\n\n")

    out.append("#ifdef __cplusplus\n}\n#endif\n\n#endif /* NNCORE_H */\n")
    return "".join(out)


CTYPE = {
    "uint32_t": "ctypes.c_uint32", "int32_t": "ctypes.c_int32", "uint64_t": "ctypes.c_uint64",
    "int64_t": "ctypes.c_int64", "size_t": "ctypes.c_size_t", "float": "ctypes.c_float",
    "double": "ctypes.c_double", "int": "ctypes.c_int", "void": "None",
    "const char *": "ctypes.c_char_p", "char *": "ctypes.POINTER(ctypes.c_char)",
    "const char *const *": "ctypes.POINTER(ctypes.c_char_p)",
    "void *": "ctypes.c_void_p", "const void *": "ctypes.c_void_p",
    "const float *": "ctypes.POINTER(ctypes.c_float)", "float *": "ctypes.POINTER(ctypes.c_float)",
    "const int32_t *": "ctypes.POINTER(ctypes.c_int32)", "int32_t *": "ctypes.POINTER(ctypes.c_int32)",
    "const uint32_t *": "ctypes.POINTER(ctypes.c_uint32)", "uint32_t *": "ctypes.POINTER(ctypes.c_uint32)",
    "size_t *": "ctypes.POINTER(ctypes.c_size_t)",
}


# Function arguments that point at float or int32 arrays are declared void *: ctypes then takes
# a plain address (array.ctypes.data, the fast path the binding uses for predictions) as well as
# ctypes pointers and arrays. Struct fields and callbacks keep the typed pointers.
ARRAY_ARGUMENT = {"const float *", "float *", "const int32_t *", "int32_t *"}


def ctype(t, spec, argument=False):
    if argument and t in ARRAY_ARGUMENT:
        return "ctypes.c_void_p"
    if t in CTYPE:
        return CTYPE[t]
    bare = t.replace("const ", "").replace("*", "").strip()
    stars = t.count("*")
    if bare in {e["name"] for e in spec["enums"]}:
        return "ctypes.c_int32"
    if bare in {o["name"] for o in spec["opaque"]}:
        return "ctypes.c_void_p" if stars == 1 else "ctypes.POINTER(ctypes.c_void_p)"
    if bare in {s["name"] for s in spec["structs"]}:
        return bare if stars == 0 else f"ctypes.POINTER({bare})"
    if bare in {c["name"] for c in spec.get("callbacks", [])}:
        return bare
    raise SystemExit(f"generate.py: no ctypes mapping for C type '{t}'")


def python(spec):
    lib = spec["library"]
    out = ['"""Raw ctypes layer of the nncore C API. GENERATED from api/nncore.toml by api/generate.py:',
           'do not edit. One Python name per C name; the Pythonic API is built on top of this module."""',
           "import ctypes", "",
           f"VERSION_MAJOR = {lib['major']}", f"VERSION_MINOR = {lib['minor']}", f"VERSION_PATCH = {lib['patch']}",
           f"VERSION_NUMBER = {lib['major'] * 10000 + lib['minor'] * 100 + lib['patch']}", ""]
    for enum in spec["enums"]:
        out.append(f"# {enum['name']}: {enum['doc']}")
        for v in enum["values"]:
            out.append(f"{v['name']} = {v['value']}")
        out.append(f"{enum['name'].upper()}_NAMES = {{{', '.join(repr(v['value']) + ': ' + repr(v['name']) for v in enum['values'])}}}")
        out.append("")
    for struct in spec["structs"]:
        out.append(f"class {struct['name']}(ctypes.Structure):")
        out.append(f"    \"\"\"{struct['doc']}\"\"\"")
        out.append("")
    for cb in spec.get("callbacks", []):
        args = ", ".join(ctype(p["type"], spec) for p in cb["params"])
        out.append(f"{cb['name']} = ctypes.CFUNCTYPE({ctype(cb['returns'], spec)}, {args})")
    out.append("")
    for struct in spec["structs"]:
        fields = ", ".join(f"({f['name']!r}, {ctype(f['type'], spec)})" for f in struct["fields"])
        out.append(f"{struct['name']}._fields_ = [{fields}]")
    out.append("")
    out.append("# name: (restype, [argtypes])")
    out.append("FUNCTIONS = {")
    for function in spec["functions"]:
        args = ", ".join(ctype(p["type"], spec, argument=True) for p in function["params"])
        out.append(f"    {function['name']!r}: ({ctype(function['returns'], spec)}, [{args}]),")
    out.append("}")
    out.append("")
    out.append("")
    out.append("def bind(library):")
    out.append('    """Sets restype and argtypes of every function on a loaded ctypes.CDLL and returns it."""')
    out.append("    for name, (restype, argtypes) in FUNCTIONS.items():")
    out.append("        function = getattr(library, name)")
    out.append("        function.restype = restype")
    out.append("        function.argtypes = argtypes")
    out.append("    return library")
    out.append("")
    return "\n".join(out)


def version_script(spec):
    """Exports exactly the header's functions from libnncore.so; everything else stays local."""
    names = "\n".join(f"    {f['name']};" for f in spec["functions"])
    return ("/* GENERATED from api/nncore.toml by api/generate.py: do not edit. */\n"
            f"NNCORE_0 {{\n  global:\n{names}\n  local:\n    *;\n}};\n")


def main():
    spec = load()
    outputs = {HEADER: header(spec), CTYPES: python(spec), EXPORTS: version_script(spec)}
    check = "--check" in sys.argv[1:]
    stale = []
    for path, text in outputs.items():
        current = path.read_text() if path.exists() else None
        if current != text:
            if check:
                stale.append(path)
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text)
                print(f"wrote {path.relative_to(ROOT)}")
    if stale:
        for path in stale:
            print(f"error: {path.relative_to(ROOT)} is stale: run 'make generate' and commit the result", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
