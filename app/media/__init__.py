"""Image files: what an upload must be, and the sizes shoppers get (Pillow, no database).

* :mod:`.validation` - an upload checked and cleaned before anything is stored: a real JPEG,
  PNG, WebP or GIF (Pillow decodes it whole), within the byte and pixel limits (decompression
  bombs refused from the header, before decoding), orientation applied, metadata dropped.
* :mod:`.variants` - the 320, 640 and 1280 px wide WebP and JPEG versions the catalog shows.
* :mod:`.tiles` - simple deterministic demo images for the seed.

Everything here is CPU work on bytes: callers on the event loop run it in a thread.
"""
