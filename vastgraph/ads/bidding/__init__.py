"""Auto-bidding on the search-ads auction replay: episodes, baselines and generative bidders.

Names are imported on first use, so importing the package does no work (torch is only imported by
the generative bidders).
"""

from __future__ import annotations

from vastgraph.lazy import lazy_getattr

_EXPORTS = {
    "BiddingMarket": "market", "OUTCOME": "market",
    "EpisodeSpec": "episodes", "Rollout": "episodes", "episode_specs": "episodes", "rollout": "episodes",
    "advertiser_graph_features": "episodes", "collect_episodes": "episodes", "FEATURES": "episodes",
    "FixedMultiplier": "baselines", "PIDPacing": "baselines", "OnlineLP": "baselines", "BehaviourMix": "baselines",
    "tune_fixed": "baselines",
    "DecisionTransformerBidder": "dt", "DiffusionBidder": "diffusion", "load_bidder": "evaluate",
    "BiddingExperiment": "evaluate", "run_bidding": "evaluate", "summarize": "evaluate",
}
__all__ = sorted(_EXPORTS)

__getattr__ = lazy_getattr(__name__, _EXPORTS)
