"""The PWA's static files agree with each other: what PyScript loads, what the service worker caches."""

import json
import re
from pathlib import Path

WEB = Path(__file__).resolve().parents[2] / "web"
PURE_CORE = WEB / "py" / "asknostr"


def test_pyscript_config_loads_the_bundled_package_and_the_js_modules() -> None:
    config = json.loads((WEB / "pyscript.json").read_text())
    assert config["interpreter"] == "./static/vendor/pyodide/pyodide.mjs"
    assert config["files"] == {"./static/vendor/asknostr.zip": "./asknostr.zip"}
    assert set(config["js_modules"]["main"].values()) == {
        "nostr_crypto",
        "idb_keyval",
        "torrent_client",
        "file_probe",
        "http_upload",
        "media_stream",
        "http_download",
    }
    assert 'os.path.abspath("asknostr.zip")' in (WEB / "main.py").read_text()


def test_pure_core_never_imports_the_browser() -> None:
    for path in PURE_CORE.glob("*.py"):
        text = path.read_text()
        assert not re.search(r"^\s*(import|from)\s+(js|pyodide|pyscript)\b", text, re.M), path.name
        assert "asknostr.browser" not in text, path.name


def test_manifest_icons_exist_with_the_declared_sizes() -> None:
    manifest = json.loads((WEB / "manifest.json").read_text())
    assert manifest["display"] == "standalone"
    purposes = set()
    for icon in manifest["icons"]:
        png = (WEB / icon["src"]).read_bytes()
        width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
        assert icon["sizes"] == f"{width}x{height}"
        purposes.add(icon["purpose"])
    assert {"any", "maskable"} <= purposes
    assert {"192x192", "512x512"} <= {icon["sizes"] for icon in manifest["icons"]}


def test_no_url_off_the_origin_in_the_app_files() -> None:
    for path in [*WEB.glob("*.*"), *WEB.glob("static/css/*"), *WEB.glob("static/js/*"), *PURE_CORE.rglob("*.py")]:
        text = path.read_text()
        for url in re.findall(r"https?://[^\s\"')]+", text):
            assert url.startswith(("http://127.0.0.1", "https://…")), f"{path.name}: {url}"


def test_the_composer_form_is_written_once() -> None:
    """Both composers (the feed's and #asknostr's) come from one template (shell.js makes them): one copy to
    change, never two that drift apart."""
    html = (WEB / "index.html").read_text()
    assert html.count('class="card composer"') == 1
    assert html.count("data-composer=") == 2
