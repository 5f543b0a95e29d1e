import hashlib
import pickle
import subprocess
import yaml

PASSWORD = "hunter2"


def run(cmd):
    return subprocess.call(cmd, shell=True)


def load(blob, text):
    obj = pickle.loads(blob)
    conf = yaml.load(text)
    return obj, conf


def digest(data):
    return hashlib.md5(data).hexdigest()


def check(x):
    assert x > 0
    try:
        return eval(x)
    except Exception:
        pass
