"""Starts `g4 serve` on the tiny chat model (random weights) for the server tests.

    with G4Server(g4_binary, tests_data_dir, "-np", "4") as s:
        s.url            # http://127.0.0.1:PORT
        s.pid, s.log()   # the process, and what it logged so far

The model folder is unpacked once per process into a temporary folder that is removed at exit.
"""
import atexit
import lzma
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time

_model_dir = None


def tiny_chat_model(data_dir):
    """The tiny chat model (config, weights, Gemma 4 tokenizer) unpacked into a temporary folder."""
    global _model_dir
    if _model_dir:
        return _model_dir
    d = tempfile.mkdtemp(prefix="g4-serve-test-")
    atexit.register(shutil.rmtree, d, True)
    shutil.copy(os.path.join(data_dir, "tiny-chat", "config.json"), d)
    for src, dst in (("tiny-chat/model.safetensors.xz", "model.safetensors"),
                     ("tokenizer/gemma4-tokenizer.json.xz", "tokenizer.json")):
        with lzma.open(os.path.join(data_dir, src)) as f, open(os.path.join(d, dst), "wb") as o:
            shutil.copyfileobj(f, o)
    _model_dir = d
    return d


class G4Server:
    def __init__(self, g4, data_dir, *args, model=None):
        self.cmd = [g4, "serve", "-m", model or tiny_chat_model(data_dir), "--port", "0", *args]
        self.proc = None
        self.url = None
        self._log = None

    def __enter__(self):
        self._log = tempfile.NamedTemporaryFile(prefix="g4-serve-", suffix=".log", delete=False)
        self.proc = subprocess.Popen(self.cmd, stdout=subprocess.DEVNULL, stderr=self._log)
        deadline = time.time() + 60
        while time.time() < deadline:
            m = re.search(r"listening on (http://[0-9.]+:[0-9]+)", self.log())
            if m:
                self.url = m.group(1)
                return self
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("g4 serve did not start:\n" + self.log())

    @property
    def pid(self):
        return self.proc.pid

    def log(self):
        with open(self._log.name, errors="replace") as f:
            return f.read()

    def rss_kib(self):
        """Resident memory of the server process."""
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def stop(self):
        """SIGTERM (the server drains), then the exit code."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode if self.proc else None

    def __exit__(self, *exc):
        self.stop()
        os.unlink(self._log.name)
