"""The DataLoader benchmark: images (or clips) per second through
``torch.utils.data.DataLoader`` at 0, 1 and 2 workers, batch 32, for every JPEG
decoder over the photo set and every video reader over random clips of the footage.

    python -m benchmarks dataloader [--images DIR] [--workers 0,1,2] [--out DIR]

Single-thread rankings can misrank decoders once they run in a loader (worker
processes, the collate copy, batch calls); this is the level a training loop feels.
"""
