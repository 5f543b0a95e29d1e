# requires: lz4 (python3-lz4)
"""lz4: frame and block compression round trips."""
import lz4.block
import lz4.frame

data = b"hello lz4 " * 1000
c = lz4.frame.compress(data, compression_level=9)
print(len(c) < len(data), lz4.frame.decompress(c) == data)
b = lz4.block.compress(data, store_size=True)
print(len(b), lz4.block.decompress(b) == data)
with lz4.frame.LZ4FrameCompressor() as comp:
    out = comp.begin() + comp.compress(data) + comp.flush()
print(lz4.frame.decompress(out) == data, lz4.library_version_number() > 10000)
