# -*- coding: utf-8 -*-
"""Snapshot probe: describes the Python environment it runs in, as one JSON object on stdout.

Run with the interpreter to describe: ``python snapshot_probe.py [--marker TOKEN]``. With a
marker, the JSON is printed between two copies of it, so whatever else reaches stdout (a .pth
file that prints at start-up, a sitecustomize) cannot be taken for the probe's answer.

Rules this file keeps:
  * standard library only, and it never imports tensorflow, keras, torch, jax or numpy
    (importing TensorFlow alone costs seconds): everything comes from installed metadata
    and from the frameworks' own plain files, read as text;
  * it runs on CPython 3.6 to 3.13 (the syntax also parses on 2.7, so an old interpreter
    gets a JSON error and exit code 3 rather than a traceback);
  * a failure in one part is recorded in "errors" and never stops the others; the exit code
    is 0 whenever the JSON was printed.
"""
import sys

PROBE_VERSION = 2
# Raw framework files are returned at most this long.
MAX_SOURCE_BYTES = 64 * 1024

def _marker():
    args = sys.argv[1:]
    if len(args) >= 2 and args[0] == "--marker":
        return args[1]
    return ""


if sys.version_info < (3, 6):
    import json as _json

    sys.stdout.write(
        _marker()
        + _json.dumps(
            {
                "probe_version": PROBE_VERSION,
                "fatal": "unsupported python",
                "python": {"version": sys.version.split()[0]},
                "errors": ["python %s is older than 3.6, which the probe needs" % sys.version.split()[0]],
            }
        )
        + _marker()
        + "\n"
    )
    sys.stdout.flush()
    sys.exit(3)

import json  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import re  # noqa: E402
from email.parser import HeaderParser  # noqa: E402

TENSORFLOW_DISTS = [
    "tensorflow",
    "tensorflow-cpu",
    "tensorflow-gpu",
    "tf-nightly",
    "tf-nightly-cpu",
    "tf-nightly-gpu",
    "tensorflow-intel",
    "tensorflow-macos",
    "tensorflow-aarch64",
    "tensorflow-cpu-aws",
    "intel-tensorflow",
    "tensorflow-rocm",
]
JAX_PLUGIN_RE = re.compile(r"^(jax-cuda[0-9]*-(plugin|pjrt)|jax-rocm.*)$")
CUDA_LIB_RE = re.compile(r"^lib(cudnn|cublas|cudart).*\.so(\..*)?$")
NAME_NORMALIZE_RE = re.compile(r"[-_.]+")
# The user part ends at the LAST "@" before the path: a password may itself contain a raw "@".
URL_USERINFO_RE = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*://)([^/?#]*)@")
# Query parameters that make a URL a credential (signed S3, GCS and Azure links, token links).
SIGNED_URL_PARAMS = set(
    p.lower()
    for p in (
        "X-Amz-Credential", "X-Amz-Signature", "X-Amz-Security-Token", "X-Amz-Date", "X-Amz-Expires",
        "X-Amz-SignedHeaders", "X-Amz-Algorithm", "AWSAccessKeyId", "Signature", "Expires",
        "X-Goog-Algorithm", "X-Goog-Credential", "X-Goog-Signature", "X-Goog-Date", "X-Goog-Expires",
        "X-Goog-SignedHeaders", "GoogleAccessId", "sig", "se", "sp", "sv", "sr", "st", "spr", "skoid",
        "sktid", "skt", "ske", "sks", "skv", "token", "access_token", "auth", "api_key", "apikey",
    )
)
KERAS_CONFIG_KEYS = ("backend", "floatx", "epsilon", "image_data_format", "nnx_enabled")
TOOLING = ("setuptools", "wheel")


def normalize_name(name):
    """PEP 503 normalization: runs of -, _ and . become one -, lower case."""
    return NAME_NORMALIZE_RE.sub("-", name).lower()


def read_text(path, limit=None):
    with open(path, "rb") as handle:
        data = handle.read() if limit is None else handle.read(limit)
    return data.decode("utf-8", "replace")


def strip_credentials(url):
    """Drops secrets from a URL's user part: user:password@ always, any user@ on http(s).

    ``ssh://git@host/...`` keeps its plain user name, which is not a secret.
    """
    if not isinstance(url, str):
        return url
    match = URL_USERINFO_RE.match(url)
    if not match:
        return url
    scheme, userinfo = match.group(1), match.group(2)
    if ":" in userinfo or "http" in scheme.lower():
        return scheme + url[match.end():]
    return url


def strip_signed_params(url):
    """Removes the query parameters that sign a URL (an S3 pre-signed link is a credential).

    Returns the URL and whether anything was removed; the fragment (#subdirectory=, #sha256=) stays.
    """
    if not isinstance(url, str) or "?" not in url:
        return url, False
    base, _, rest = url.partition("?")
    query, hash_mark, fragment = rest.partition("#")
    kept = []
    removed = False
    for part in query.split("&"):
        name = part.split("=", 1)[0]
        if name.lower() in SIGNED_URL_PARAMS:
            removed = True
        elif part:
            kept.append(part)
    if not removed:
        return url, False
    return base + ("?" + "&".join(kept) if kept else "") + (hash_mark + fragment if hash_mark else ""), True


class Probe(object):
    def __init__(self):
        self.errors = []
        self.site_dirs = self._site_dirs()
        # normalized name -> package record (first on sys.path wins)
        self.dists = {}

    def error(self, where, exc):
        self.errors.append("%s: %s: %s" % (where, type(exc).__name__, exc))

    # ---------------------------------------------------------------- sys.path

    @staticmethod
    def _site_dirs():
        """Existing directories of sys.path, in order, without the probe's own folder."""
        here = os.path.realpath(os.path.dirname(os.path.abspath(__file__)))
        seen = set()
        dirs = []
        for index, entry in enumerate(sys.path):
            path = os.path.abspath(entry or os.getcwd())
            if index == 0 and os.path.realpath(path) == here:
                continue
            if path in seen or not os.path.isdir(path):
                continue
            seen.add(path)
            dirs.append(path)
        return dirs

    # ---------------------------------------------------------------- python

    def python_info(self):
        prefix = sys.prefix
        base_prefix = getattr(sys, "real_prefix", None) or getattr(sys, "base_prefix", prefix)
        info = {
            "version": platform.python_version(),
            "implementation": platform.python_implementation(),
            "executable": sys.executable,
            "prefix": prefix,
            "base_prefix": base_prefix,
            "environment": "system",
            "conda_env_name": None,
            "platform": sys.platform,
        }
        if os.path.isdir(os.path.join(prefix, "conda-meta")):
            info["environment"] = "conda"
            info["conda_env_name"] = self._conda_env_name(prefix)
        elif os.path.realpath(prefix) != os.path.realpath(base_prefix):
            info["environment"] = "venv"
        return info

    @staticmethod
    def _conda_env_name(prefix):
        active = os.environ.get("CONDA_DEFAULT_ENV")
        conda_prefix = os.environ.get("CONDA_PREFIX")
        real = os.path.realpath(prefix)
        # CONDA_DEFAULT_ENV names the *activated* env, which is only ours when the prefixes agree.
        if active and (not conda_prefix or os.path.realpath(conda_prefix) == real):
            return active
        if os.path.basename(os.path.dirname(real)) == "envs":
            return os.path.basename(real)
        if os.path.isdir(os.path.join(real, "envs")) or os.path.isdir(os.path.join(real, "condabin")):
            return "base"
        return os.path.basename(real)

    # ---------------------------------------------------------------- packages

    def scan_packages(self):
        editable_targets = {}
        for site in self.site_dirs:
            try:
                names = sorted(os.listdir(site))
            except OSError as exc:
                self.error("listdir %s" % site, exc)
                continue
            for name in names:
                if name.endswith(".egg-link"):
                    try:
                        target = self._egg_link_target(os.path.join(site, name))
                        if target:
                            editable_targets.setdefault(os.path.realpath(target), target)
                    except Exception as exc:  # noqa: BLE001
                        self.error("egg-link %s" % name, exc)
        for site in self.site_dirs:
            self._scan_dir(site, editable_targets.get(os.path.realpath(site)))
            if site.endswith(".egg") and os.path.isdir(os.path.join(site, "EGG-INFO")):
                self._add_dist(os.path.join(site, "EGG-INFO"), site, "egg", None)
        # setup.py develop projects whose folder is not (yet) on sys.path
        for real, target in sorted(editable_targets.items()):
            if real not in [os.path.realpath(s) for s in self.site_dirs]:
                self._scan_dir(target, target)
        return [self.dists[key] for key in sorted(self.dists)]

    @staticmethod
    def _egg_link_target(path):
        lines = read_text(path, 8192).splitlines()
        if not lines or not lines[0].strip():
            return None
        target = lines[0].strip()
        if not os.path.isabs(target):
            target = os.path.join(os.path.dirname(path), target)
        return os.path.normpath(target)

    def _scan_dir(self, site, editable_target):
        try:
            names = sorted(os.listdir(site))
        except OSError as exc:
            self.error("listdir %s" % site, exc)
            return
        for name in names:
            if name.endswith(".dist-info"):
                kind = "dist-info"
            elif name.endswith(".egg-info"):
                kind = "egg-info"
            else:
                continue
            try:
                self._add_dist(os.path.join(site, name), site, kind, editable_target)
            except Exception as exc:  # noqa: BLE001
                self.error("metadata %s" % os.path.join(site, name), exc)

    def _add_dist(self, meta_path, site, kind, editable_target):
        is_dir = os.path.isdir(meta_path)
        headers = None
        if kind == "dist-info":
            headers = self._headers(os.path.join(meta_path, "METADATA"))
        elif is_dir:
            headers = self._headers(os.path.join(meta_path, "PKG-INFO"))
        else:
            headers = self._headers(meta_path)
        name = headers.get("Name") if headers else None
        version = headers.get("Version") if headers else None
        if not name or not version:
            # Fall back to the folder name: name-version.dist-info / name-version-pyX.Y.egg-info
            stem = os.path.basename(meta_path).rsplit(".", 1)[0]
            parts = stem.split("-")
            name = name or parts[0]
            version = version or (parts[1] if len(parts) > 1 else None)
        if not name:
            return
        if not version:
            # Without a version it cannot be pinned or compared: say so, and leave it out.
            self.errors.append("%s: no version in its metadata; left out of packages" % meta_path)
            return
        name = name.strip()
        key = normalize_name(name)
        if key in self.dists:
            return
        # Requirements on the packaging tools (tensorflow-cpu 2.21: "setuptools"): whoever rebuilds
        # the environment must provide them. Optional ones (extra == ...) do not count.
        tooling = []
        for requirement in (headers.get_all("Requires-Dist") or []) if headers else []:
            text = requirement.strip()
            name_part, _, marker = text.partition(";")
            match = re.match(r"^\s*([A-Za-z0-9._-]+)", name_part)
            if match and normalize_name(match.group(1)) in TOOLING and "extra" not in marker:
                tooling.append(text)
        installer = None
        requested = False
        source = {"kind": "index"}
        if is_dir:
            installer_path = os.path.join(meta_path, "INSTALLER")
            if os.path.isfile(installer_path):
                installer = read_text(installer_path, 4096).strip() or None
            requested = os.path.exists(os.path.join(meta_path, "REQUESTED"))
            direct_url = os.path.join(meta_path, "direct_url.json")
            if os.path.isfile(direct_url):
                try:
                    source = self._direct_url_source(json.loads(read_text(direct_url)))
                except Exception as exc:  # noqa: BLE001
                    self.error("direct_url.json of %s" % name, exc)
        if source.get("kind") == "index" and editable_target is not None:
            source = {"kind": "editable", "url": self._file_url(editable_target)}
        self.dists[key] = {
            "name": name,
            "version": version.strip() if isinstance(version, str) else version,
            "installer": installer,
            "requested": requested,
            "source": source,
            "location": site,
            "metadata": kind,
            "requires_tooling": tooling,
        }

    @staticmethod
    def _headers(path):
        if not os.path.isfile(path):
            return None
        text = read_text(path)
        # Only the header block matters; the body can be a long README.
        for sep in ("\n\n", "\r\n\r\n"):
            cut = text.find(sep)
            if cut != -1:
                text = text[: cut + len(sep)]
                break
        return HeaderParser().parsestr(text)

    @staticmethod
    def _file_url(path):
        path = os.path.abspath(path)
        if os.sep != "/":
            path = "/" + path.replace(os.sep, "/")
        return "file://" + path

    @staticmethod
    def _direct_url_source(data):
        url, redacted = strip_signed_params(strip_credentials(data.get("url")))
        extra = {}
        # PEP 610: the project may sit in a subfolder of the repository or archive.
        if isinstance(data.get("subdirectory"), str) and data["subdirectory"]:
            extra["subdirectory"] = data["subdirectory"]
        if redacted:
            extra["redacted"] = True
        source = Probe._direct_url_kind(data, url)
        source.update(extra)
        return source

    @staticmethod
    def _direct_url_kind(data, url):
        if isinstance(data.get("vcs_info"), dict):
            vcs = data["vcs_info"]
            return {
                "kind": "vcs",
                "url": url,
                "vcs": vcs.get("vcs"),
                "commit_id": vcs.get("commit_id"),
                "requested_revision": vcs.get("requested_revision"),
            }
        if isinstance(data.get("archive_info"), dict):
            archive = data["archive_info"]
            digest = archive.get("hash")
            if not digest and isinstance(archive.get("hashes"), dict):
                hashes = archive["hashes"]
                if hashes.get("sha256"):
                    digest = "sha256=" + hashes["sha256"]
                elif hashes:
                    algo = sorted(hashes)[0]
                    digest = "%s=%s" % (algo, hashes[algo])
            return {"kind": "archive", "url": url, "hash": digest or None}
        if isinstance(data.get("dir_info"), dict):
            if data["dir_info"].get("editable"):
                return {"kind": "editable", "url": url}
            return {"kind": "local", "url": url}
        # Unknown PEP 610 shape: still a direct reference, not the index.
        return {"kind": "local", "url": url}

    # ---------------------------------------------------------------- frameworks

    def version_of(self, *names):
        for name in names:
            dist = self.dists.get(normalize_name(name))
            if dist:
                return dist["version"]
        return None

    def find_file(self, *parts):
        """First sys.path directory holding the relative path, as import would find it."""
        relative = os.path.join(*parts)
        for site in self.site_dirs:
            candidate = os.path.join(site, relative)
            if os.path.isfile(candidate):
                return candidate
        return None

    def tensorflow(self):
        installed = [n for n in TENSORFLOW_DISTS if normalize_name(n) in self.dists]
        build_info_path = self.find_file("tensorflow", "python", "platform", "build_info.py")
        if not installed and build_info_path is None:
            return None
        dist = None
        if len(installed) == 1:
            dist = self.dists[normalize_name(installed[0])]
        elif installed:
            dist = self._tensorflow_provider(installed, build_info_path)
        source = None
        if build_info_path is not None:
            try:
                source = read_text(build_info_path, MAX_SOURCE_BYTES)
            except Exception as exc:  # noqa: BLE001
                self.error("tensorflow build_info.py", exc)
        return {
            "version": dist["version"] if dist else None,
            "distribution": normalize_name(dist["name"]) if dist else None,
            "build_info_source": source,
            "build_info_path": build_info_path,
        }

    def _tensorflow_provider(self, installed, build_info_path):
        """Several TF distributions installed: the one installed where the package lives,
        then the one whose RECORD lists build_info.py, else the first in the list."""
        dists = [self.dists[normalize_name(n)] for n in installed]
        if build_info_path is not None:
            site = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(build_info_path))))
            here = [d for d in dists if d["location"] == site]
            if len(here) == 1:
                return here[0]
            dists = here or dists
            for dist in dists:
                try:
                    for entry in os.listdir(dist["location"]):
                        if entry.endswith(".dist-info") and normalize_name(entry.split("-")[0]) == normalize_name(dist["name"]):
                            record = read_text(os.path.join(dist["location"], entry, "RECORD"))
                            if "tensorflow/python/platform/build_info.py" in record:
                                return dist
                except Exception as exc:  # noqa: BLE001
                    self.error("tensorflow RECORD", exc)
        self.errors.append("tensorflow: several distributions installed (%s); reporting %s" % (", ".join(installed), dists[0]["name"]))
        return dists[0]

    def keras(self):
        keras_version = self.version_of("keras")
        tf_keras_version = self.version_of("tf-keras")
        if keras_version is None and tf_keras_version is None:
            return None
        env = os.environ
        if "KERAS_HOME" in env:
            keras_home = env.get("KERAS_HOME")
        else:
            base = os.path.expanduser("~")
            if not os.access(base, os.W_OK):
                base = "/tmp"
            keras_home = os.path.join(base, ".keras")
        backend = "tensorflow"
        backend_source = "default"
        keras3 = keras_version is not None and self._major(keras_version) >= 3
        settings = None
        # Keras 3 and Keras 2 / tf.keras all read keras.json under KERAS_HOME (floatx, epsilon and
        # image_data_format change numerics in every one of them); only Keras 3 takes its backend.
        config_path = os.path.expanduser(os.path.join(keras_home, "keras.json"))
        if os.path.exists(config_path):
            try:
                config = json.loads(read_text(config_path))
                if isinstance(config, dict):
                    # What Keras itself reads from the file, and nothing else.
                    settings = dict((k, config[k]) for k in KERAS_CONFIG_KEYS if k in config)
                value = config.get("backend") if isinstance(config, dict) else None
                if keras3 and isinstance(value, str):
                    backend = value
                    backend_source = "keras.json"
            except ValueError:
                pass  # Keras treats an unreadable keras.json as empty
            except Exception as exc:  # noqa: BLE001
                self.error("keras.json", exc)
        if env.get("KERAS_BACKEND"):
            backend = env["KERAS_BACKEND"]
            backend_source = "KERAS_BACKEND"
        return {
            "version": keras_version,
            "backend": backend,
            "backend_source": backend_source,
            "keras_home": keras_home,
            "tf_keras_version": tf_keras_version,
            "use_legacy_keras": env.get("TF_USE_LEGACY_KERAS") in ("1", "true", "True"),
            "config": settings,
        }

    @staticmethod
    def _major(version):
        match = re.match(r"\s*v?(\d+)", version or "")
        return int(match.group(1)) if match else 0

    def torch(self):
        version = self.version_of("torch")
        version_path = self.find_file("torch", "version.py")
        if version is None and version_path is None:
            return None
        source = None
        if version_path is not None:
            try:
                source = read_text(version_path, MAX_SOURCE_BYTES)
            except Exception as exc:  # noqa: BLE001
                self.error("torch version.py", exc)
        return {"version": version, "version_file_source": source, "version_file_path": version_path}

    def jax(self):
        jax_version = self.version_of("jax")
        jaxlib_version = self.version_of("jaxlib")
        plugins = [
            {"name": d["name"], "version": d["version"]}
            for key, d in sorted(self.dists.items())
            if JAX_PLUGIN_RE.match(key)
        ]
        if jax_version is None and jaxlib_version is None and not plugins:
            return None
        return {"version": jax_version, "jaxlib": jaxlib_version, "cuda_plugins": plugins}

    def numpy(self):
        version = self.version_of("numpy")
        return {"version": version} if version is not None else None

    def nvidia_wheels(self):
        return [
            {"name": d["name"], "version": d["version"]}
            for key, d in sorted(self.dists.items())
            if key.startswith("nvidia-")
        ]

    def cuda_wheel_files(self):
        headers = set()
        libraries = set()
        for site in self.site_dirs:
            nvidia = os.path.join(site, "nvidia")
            if not os.path.isdir(nvidia):
                continue
            include = os.path.join(nvidia, "cudnn", "include")
            if os.path.isdir(include):
                for name in os.listdir(include):
                    if name.startswith("cudnn") and name.endswith(".h"):
                        headers.add(os.path.join(include, name))
            for component in os.listdir(nvidia):
                lib = os.path.join(nvidia, component, "lib")
                if not os.path.isdir(lib):
                    continue
                for name in os.listdir(lib):
                    if CUDA_LIB_RE.match(name):
                        libraries.add(os.path.join(lib, name))
        return {"cudnn_headers": sorted(headers), "libraries": sorted(libraries)}

    # ---------------------------------------------------------------- all

    def run(self):
        result = {"probe_version": PROBE_VERSION}
        try:
            result["python"] = self.python_info()
        except Exception as exc:  # noqa: BLE001
            self.error("python", exc)
            result["python"] = {"version": platform.python_version()}
        try:
            packages = self.scan_packages()
        except Exception as exc:  # noqa: BLE001
            self.error("packages", exc)
            packages = [self.dists[key] for key in sorted(self.dists)]
        result["packages"] = packages
        frameworks = {}
        for key, method in (
            ("tensorflow", self.tensorflow),
            ("keras", self.keras),
            ("torch", self.torch),
            ("jax", self.jax),
            ("numpy", self.numpy),
            ("nvidia_wheels", self.nvidia_wheels),
        ):
            try:
                frameworks[key] = method()
            except Exception as exc:  # noqa: BLE001
                self.error(key, exc)
                frameworks[key] = [] if key == "nvidia_wheels" else None
        result["frameworks"] = frameworks
        try:
            result["cuda_wheel_files"] = self.cuda_wheel_files()
        except Exception as exc:  # noqa: BLE001
            self.error("cuda_wheel_files", exc)
            result["cuda_wheel_files"] = {"cudnn_headers": [], "libraries": []}
        result["errors"] = self.errors
        return result


def main():
    try:
        result = Probe().run()
    except Exception as exc:  # noqa: BLE001 - last resort: still print JSON
        result = {"probe_version": PROBE_VERSION, "errors": ["probe: %s: %s" % (type(exc).__name__, exc)]}
    marker = _marker()
    sys.stdout.write(marker + json.dumps(result) + marker + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
