# requires: PIL (python3-pil)
"""Pillow: draw an image, save and reopen PNG, JPEG, GIF, WebP and TIFF in memory, filters, a font."""
import io

from PIL import Image, ImageDraw, ImageFilter, ImageFont, ImageOps

im = Image.new("RGB", (64, 48), (10, 20, 30))
d = ImageDraw.Draw(im)
d.rectangle([8, 8, 40, 30], fill=(200, 50, 50))
d.ellipse([30, 20, 60, 44], outline=(0, 255, 0), width=2)
d.text((2, 2), "Hi", fill=(255, 255, 255), font=ImageFont.load_default())
for fmt in ("PNG", "JPEG", "GIF", "WEBP", "TIFF", "BMP"):
    buf = io.BytesIO()
    im.save(buf, fmt, quality=90) if fmt == "JPEG" else im.save(buf, fmt)
    buf.seek(0)
    back = Image.open(buf)
    back.load()
    print(fmt, back.format, back.size, back.mode)
print("pixel", im.getpixel((10, 10)), im.convert("L").getpixel((10, 10)))
blur = im.filter(ImageFilter.GaussianBlur(2))
print("blur", blur.getpixel((8, 8)), ImageOps.grayscale(im).histogram()[30])
print("resize", im.resize((32, 24), Image.LANCZOS).getpixel((5, 5)), im.rotate(90, expand=True).size)
