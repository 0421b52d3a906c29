"""The Pingshan demo data set: deterministic grids, people, cameras, matters and 30 days of incidents."""

from geodata.demo.seed import DEFAULT_SEED, SeedSummary, seed_demo

__all__ = ["DEFAULT_SEED", "SeedSummary", "seed_demo"]
