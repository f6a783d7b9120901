"""The pure model of threads and turns (no httpx, no textual): observations in, what to show out."""
