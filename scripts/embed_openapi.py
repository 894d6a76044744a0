#!/usr/bin/python3
"""Converts docs/openapi.yaml to JSON and writes it as a C++ source file (build step)."""
import json
import sys

import yaml

src, out = sys.argv[1], sys.argv[2]
with open(src, encoding="utf-8") as f:
    doc = yaml.safe_load(f)
text = json.dumps(doc, ensure_ascii=False, separators=(",", ":"))
with open(out, "w", encoding="utf-8") as f:
    f.write("#include <string>\nnamespace kehu::app {\nconst std::string& OpenApiJson() {\n")
    f.write('  static const std::string kJson = R"KEHU_OPENAPI(' + text + ')KEHU_OPENAPI";\n')
    f.write("  return kJson;\n}\n}  // namespace kehu::app\n")
