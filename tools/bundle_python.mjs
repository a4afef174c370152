// Pack the PWA's Python package into one zip with bytecode compiled by the very Pyodide the app runs, so the
// browser makes one request instead of one per module and imports without compiling (the unchecked-hash .pyc
// files sit beside their sources, where zipimport looks for them; the sources stay for tracebacks).
// Usage: node tools/bundle_python.mjs <web/py> <out.zip>      (run by tools/vendor.py)
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { loadPyodide } from 'pyodide'

const [srcDir, outZip] = process.argv.slice(2)
const files = {}
const walk = (dir) => {
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) walk(path)
    else if (name.endsWith('.py')) files[relative(srcDir, path)] = readFileSync(path, 'utf8')
  }
}
walk(srcDir)

const py = await loadPyodide()
py.globals.set('sources', py.toPy(files))
const zipped = py.runPython(`
import io, py_compile, zipfile, os
buffer = io.BytesIO()
with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
    for name, text in sorted(sources.items()):
        path = "/tmp/src/" + name
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
        pyc = py_compile.compile(path, cfile=path + "c", dfile=name, doraise=True,
                                 invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
        # a fixed date keeps the zip identical for identical sources (the precache version hashes it)
        with open(pyc, "rb") as f:
            bytecode = f.read()
        for entry, data in ((name, text.encode()), (name + "c", bytecode)):
            info = zipfile.ZipInfo(entry, (2020, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
buffer.getvalue()
`)
writeFileSync(outZip, zipped.toJs())
console.log(`${Object.keys(files).length} modules compiled by Python ${py.runPython('import sys; sys.version.split()[0]')}`)
