"""Reads the CARC and RARC tables of the TigerShark package (PyPI, BSD license) without running
its code: the module is parsed, and only string literals, their concatenation and one
`str.format(section_symbol)` are evaluated. Prints `code<TAB>description` lines of one table.

usage: tigershark_codes.py REMITTANCE_PY claim_adjustment_reasons|remittance_advice_codes
"""
import ast
import sys


def value(node):
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return value(node.left) + value(node.right)
    if isinstance(node, ast.Name) and node.id == "section_symbol":
        return "\u00a7"
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "format"
    ):
        return value(node.func.value).format(*(value(a) for a in node.args))
    raise ValueError(f"not a string expression: {ast.dump(node)[:120]}")


def table(path, name):
    tree = ast.parse(open(path, encoding="utf-8").read())
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and getattr(node.targets[0], "id", None) == name
            and isinstance(node.value, ast.Dict)
        ):
            return {value(k): value(v) for k, v in zip(node.value.keys, node.value.values)}
    raise SystemExit(f"{path}: no table {name}")


def normal(text):
    return " ".join(text.split())


if __name__ == "__main__":
    path, name = sys.argv[1], sys.argv[2]
    rows = table(path, name)
    order = lambda code: (code.rstrip("0123456789"), int("0" + code.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")), code)
    for code in sorted(rows, key=order):
        print(f"{code}\t{normal(rows[code])}")
