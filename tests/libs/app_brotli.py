# requires: brotli (python3-brotli)
"""brotli: compress/decompress, the streaming Compressor."""
import brotli

data = "brotli über data ".encode() * 300
c = brotli.compress(data, quality=11)
print(len(c), brotli.decompress(c) == data)
comp = brotli.Compressor(mode=brotli.MODE_TEXT)
out = comp.process(data) + comp.finish()
print(brotli.decompress(out) == data)
