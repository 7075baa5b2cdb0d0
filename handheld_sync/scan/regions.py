"""The chain's second look: where the fast pass read nothing, look again, harder, only where
a barcode may be.

A camera frame is mostly shelf. `candidate_regions` finds the few places with the dense
edges a barcode makes (on a frame halved and cut into cells of 32 pixels, the cells whose
edge energy stands out above the frame's median, grown into a box around the strongest);
`RegionDecoder` then reads each such crop at full resolution with zxing-cpp's local-average
binariser, in views that undo what the fast pass loses:

    sharpened   unsharp mask: an out-of-focus frame, a low-contrast label
    smoothed    a Gaussian blur of one pixel: sensor noise that breaks bars apart
    turned      the crop turned 22.5, -22.5 and 45 degrees: a linear code held
                at a slant (zxing-cpp scans rows and, with try_rotate, columns, so a Code
                128 turned more than a few degrees is read by neither); with the 90
                degrees zxing-cpp tries itself, every angle is within 11.25 degrees of one
                it scans

The work is bounded whatever the frame holds: at most `regions` crops (one in the app's
chain), each at most `max_region` pixels, five zxing-cpp passes each, stopping at the first
read. So a frame with no code in it (the common case while aiming) costs the fast pass and
a bounded second look (bench/decode_frames.py measures both).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from PIL import Image, ImageFilter

from handheld_sync.scan import DecodedBarcode
from handheld_sync.scan.zxing_backend import SYMBOLOGIES_IN_USE, ZxingDecoder

CELL = 32  # pixels of the frame a cell of the energy map covers
_MIN_STANDOUT = 4  # a cell's edge energy above the median, below which nothing is looked at
_GROW = 0.25  # cells joined to a region: at least this share of its strongest's standout
Box = tuple[int, int, int, int]


def candidate_regions(
    grey: Image.Image, *, limit: int = 2, max_size: tuple[int, int] = (640, 448)
) -> list[Box]:
    """Up to `limit` boxes (left, top, right, bottom) around the densest edges, strongest
    first; none on a frame with no part that stands out (a blank wall). A box is at most
    `max_size` (long side, short side) either way round, plus a cell of margin."""
    small = grey.reduce(2)
    # Pillow's 3x3 filters copy the outermost pixels as they are: black them out, or a
    # bright frame's border would stand out as edges.
    edges = Image.new("L", small.size, 0)
    inner = (1, 1, small.width - 1, small.height - 1)
    edges.paste(small.filter(ImageFilter.FIND_EDGES).crop(inner), inner[:2])
    energy = edges.reduce(CELL // 2)
    width, height = energy.size
    cells = energy.tobytes()
    floor = sorted(cells)[len(cells) // 2]
    order = sorted(range(len(cells)), key=lambda i: -cells[i])
    used: set[int] = set()
    boxes: list[Box] = []
    # A region grows while its box (without the margin) stays within max_size, either
    # way round: a code turned 90 degrees is as long upright as it was lying.
    long_side = max(1, max(max_size) // CELL - 2)
    short_side = max(1, min(max_size) // CELL - 2)
    for seed in order:
        if len(boxes) >= limit or cells[seed] - floor < _MIN_STANDOUT:
            break
        if seed in used:
            continue
        threshold = floor + (cells[seed] - floor) * _GROW
        x0 = x1 = seed % width
        y0 = y1 = seed // width
        region = {seed}
        stack = [seed]
        while stack:
            cell = stack.pop()
            x, y = cell % width, cell // width
            for nx in (x - 1, x, x + 1):
                for ny in (y - 1, y, y + 1):
                    if not (0 <= nx < width and 0 <= ny < height):
                        continue
                    near = ny * width + nx
                    if near in region or near in used or cells[near] < threshold:
                        continue
                    across = max(x1, nx) - min(x0, nx) + 1
                    down = max(y1, ny) - min(y0, ny) + 1
                    if max(across, down) > long_side or min(across, down) > short_side:
                        continue
                    x0, x1, y0, y1 = min(x0, nx), max(x1, nx), min(y0, ny), max(y1, ny)
                    region.add(near)
                    stack.append(near)
        used |= region
        boxes.append(
            (
                max(0, (x0 - 1) * CELL),
                max(0, (y0 - 1) * CELL),
                min(grey.width, (x1 + 2) * CELL),
                min(grey.height, (y1 + 2) * CELL),
            )
        )
    return boxes


class RegionDecoder:
    """Reads the candidate regions of a frame in the views above; the first read wins."""

    name = "zxing-cpp regions"

    def __init__(
        self,
        symbologies: Iterable[str] | None = SYMBOLOGIES_IN_USE,
        *,
        regions: int = 1,
        max_region: tuple[int, int] = (640, 448),
        angles: tuple[float, ...] = (22.5, -22.5, 45.0),
    ) -> None:
        # No downscaled passes (a crop is small already) and no inverted one (our labels
        # are dark on light); try_rotate stays on: it is how columns are scanned.
        self._zxing = ZxingDecoder(symbologies, try_invert=False, try_downscale=False)
        self._regions = regions
        self._max_region = max_region
        self._angles = angles

    def decode_image(self, image: Image.Image) -> list[DecodedBarcode]:
        grey = image if image.mode == "L" else image.convert("L")
        for box in candidate_regions(grey, limit=self._regions, max_size=self._max_region):
            for view in self._views(grey.crop(box)):
                found = self._zxing.decode_image(view)
                if found:
                    return found
        return []

    def _views(self, crop: Image.Image) -> Iterator[Image.Image]:
        yield crop.filter(ImageFilter.UnsharpMask(radius=3, percent=300, threshold=0))
        yield crop.filter(ImageFilter.GaussianBlur(1))
        for angle in self._angles:
            yield crop.rotate(angle, resample=Image.Resampling.BILINEAR, expand=True, fillcolor=128)
