"""Atomic settings files on littlefs: write a temporary file, then rename it over the old one."""
# littlefs commits a rename atomically and never shows a half-written file,
# so after a power cut at any moment the file holds the old settings or the
# new ones, whole. A file that still cannot be parsed (bit rot, a foreign
# image) falls back to the defaults and says so, instead of stopping the boot.
import json
import os


class Store:
    def __init__(self, path, defaults):
        self.path = path
        self.defaults = defaults
        self.values = dict(defaults)
        self.recovered = False  # True when the file was unreadable and defaults were used

    def load(self):
        try:
            os.remove(self.path + ".tmp")  # the leftover of an interrupted save
        except OSError:
            pass
        try:
            with open(self.path) as f:
                stored = json.load(f)
            if not isinstance(stored, dict):
                raise ValueError
        except OSError:
            stored = {}
        except ValueError:
            stored = {}
            self.recovered = True
        values = dict(self.defaults)
        for k, v in stored.items():
            if k in values:
                values[k] = v
        self.values = values
        return self

    def get(self, key):
        return self.values[key]

    def update(self, changes):
        """Apply all of changes or none of them (unknown key: KeyError, nothing written)."""
        for k in changes:
            if k not in self.defaults:
                raise KeyError(k)
        values = dict(self.values)
        values.update(changes)
        self._write(values)
        self.values = values

    def _write(self, values):
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(values, f)
        os.rename(tmp, self.path)
