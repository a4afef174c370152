// Script of bench/bare_pyodide.html (kept in a file: the Bridge's CSP allows no inline script).
import { loadPyodide } from '../static/vendor/pyodide/pyodide.mjs'
const py = await loadPyodide()
document.getElementById('status').textContent = 'python ready: ' + py.runPython('sum(range(10))')
performance.mark('ready')
document.body.classList.add('ready')
