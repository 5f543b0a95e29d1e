# requires: charset_normalizer (python3-charset-normalizer)
"""charset_normalizer: from_bytes (its md.py / compiled mypyc modules), best match, detect()."""
import charset_normalizer
from charset_normalizer import from_bytes

samples = ["Bonjour, ceci est un texte en français, avec des accents: é à è ù.".encode("cp1252"),
           "Привет мир, это тестовая строка для проверки кодировки текста.".encode("cp1251"),
           "Hello plain".encode("utf-8")]
for s in samples:
    best = from_bytes(s).best()
    print(best.encoding, str(best)[:20])
print(charset_normalizer.detect("héllo wörld".encode("utf-8"))["encoding"])
