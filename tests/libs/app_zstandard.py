# requires: zstandard (python3-zstandard)
"""zstandard: compress/decompress with the C backend, streaming, a trained dictionary."""
import io

import zstandard as zstd

data = b"zstandard test data " * 500
c = zstd.ZstdCompressor(level=10).compress(data)
print(zstd.backend, len(c) < 200, zstd.ZstdDecompressor().decompress(c) == data)
buf = io.BytesIO()
with zstd.ZstdCompressor().stream_writer(buf, closefd=False) as w:
    w.write(data)
print(zstd.ZstdDecompressor().stream_reader(io.BytesIO(buf.getvalue())).read() == data)
samples = [f"record {i} value={i * 7} status=ok".encode() for i in range(2000)]
d = zstd.train_dictionary(1024, samples)
cc = zstd.ZstdCompressor(dict_data=d).compress(samples[5])
print(zstd.ZstdDecompressor(dict_data=d).decompress(cc) == samples[5], zstd.ZSTD_VERSION >= (1, 4, 0))
