# requires: chardet (python3-chardet)
"""chardet: detect encodings of byte strings (its language models), UniversalDetector."""
import chardet
from chardet.universaldetector import UniversalDetector

samples = {
    "utf-8": "Привет, как дела? Всё хорошо, спасибо большое за помощь.".encode("utf-8"),
    "koi8-r": "Привет, как дела? Всё хорошо, спасибо большое за помощь друзьям.".encode("koi8-r"),
    "shift_jis": "これは日本語のテキストです。文字コードを判定します。".encode("shift_jis"),
    "ascii": b"plain ascii text",
}
for k, v in samples.items():
    r = chardet.detect(v)
    print(k, r["encoding"], r["language"])
d = UniversalDetector()
for line in [samples["utf-8"][:20], samples["utf-8"][20:]]:
    d.feed(line)
d.close()
print(d.result["encoding"], len(chardet.detect_all(samples["koi8-r"])) > 0)
