# requires: matplotlib (python3-matplotlib)
"""matplotlib: the Agg backend, a figure with text (fonts), savefig to PNG, SVG and PDF in memory."""
import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

fig, ax = plt.subplots(figsize=(4, 3), dpi=80)
x = np.linspace(0, 2 * np.pi, 50)
ax.plot(x, np.sin(x), label="sin")
ax.bar([1, 2, 3], [0.2, 0.5, 0.3])
ax.set_title("Title $\\alpha^2$")
ax.legend()
for fmt in ("png", "svg", "pdf"):
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt)
    data = buf.getvalue()
    print(fmt, len(data) > 1000, data[:4])
fig.canvas.draw()
w, h = fig.canvas.get_width_height()
print("canvas", w, h, np.asarray(fig.canvas.buffer_rgba()).shape)
print("backend", matplotlib.get_backend(), matplotlib.font_manager.findfont("DejaVu Sans").endswith(".ttf"))
