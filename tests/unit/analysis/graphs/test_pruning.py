"""Influence, pruning and the two graph scores against values computed by hand on a five-node
graph: features f0, f1, error e, token t, logit y (one layer, one position)."""

import pytest
import torch

from saekit.analysis.graphs.graph import AttributionGraph
from saekit.analysis.graphs.pruning import (
    find_threshold,
    graph_scores,
    influence,
    normalized,
    prune,
)

F0, F1, E, T, Y = range(5)


def hand_graph() -> AttributionGraph:
    adjacency = torch.zeros(5, 5)
    adjacency[F0, T], adjacency[F0, E] = 3.0, -1.0  # normalised: t 0.75, e 0.25
    adjacency[F1, F0], adjacency[F1, T] = 1.0, -1.0  # f0 0.5, t 0.5
    adjacency[Y, F0], adjacency[Y, F1], adjacency[Y, E] = 2.0, 6.0, -2.0  # 0.2, 0.6, 0.2
    return AttributionGraph(
        model="hand",
        prompt="x",
        tokens=torch.tensor([7]),
        token_strings=["x"],
        n_layers=1,
        features=torch.tensor([[0, 0, 0], [0, 0, 1]]),
        activations=torch.tensor([1.0, 1.0]),
        logit_tokens=torch.tensor([3]),
        logit_probabilities=torch.tensor([1.0]),
        logit_strings=["y"],
        adjacency=adjacency,
    )


def test_influence_sums_every_path_to_the_logits():
    graph = hand_graph()
    weights = torch.tensor([0.0, 0, 0, 0, 1])
    # w A = [.2, .6, .2, 0, 0]; w A^2 = [.3, 0, .05, .45, 0]; w A^3 = [0, 0, .075, .225, 0]
    expected = torch.tensor([0.5, 0.6, 0.325, 0.675, 0.0])
    torch.testing.assert_close(influence(normalized(graph.adjacency), weights), expected)


def test_scores_by_hand():
    scores = graph_scores(hand_graph())
    assert scores.replacement == pytest.approx(0.675 / (0.675 + 0.325))
    # non-error shares [.75, 1, 1, 1, .8] weighted by influence + w [.5, .6, .325, .675, 1]
    assert scores.completeness == pytest.approx(2.775 / 3.1)


def test_threshold_keeps_the_largest_scores_up_to_the_fraction():
    scores = torch.tensor([0.0, 0.5, 0.675, 0.325, 0.6])
    assert find_threshold(scores, 0.8) == pytest.approx(0.5)  # cumulative .32 .61 .85 1
    assert find_threshold(scores, 1.0) == pytest.approx(0.325)
    assert find_threshold(torch.zeros(4), 0.8) == 0.0


def test_pruning_drops_the_weak_error_and_keeps_the_rest():
    result = prune(hand_graph(), node_threshold=0.8, edge_threshold=0.98)
    assert result.node_mask.tolist() == [True, True, False, True, True]
    # edge scores after dropping e: f0<-t .625, f1<-f0 .375, f1<-t .375, y<-f0 .25, y<-f1 .75
    kept = {(int(t), int(s)) for t, s in result.edge_mask.nonzero()}
    assert kept == {(F0, T), (F1, F0), (F1, T), (Y, F0), (Y, F1)}
    torch.testing.assert_close(
        result.cumulative_scores, torch.tensor([1.775, 1.275, 2.1, 0.675, 2.1]) / 2.1
    )


def test_pruning_iterates_until_every_feature_has_inputs_and_outputs():
    # at 0.5 only y<-f1 (.75) and f0<-t (.625) survive: f1 has no input, f0 no output; then
    # y<-f1 goes with f1
    result = prune(hand_graph(), node_threshold=0.8, edge_threshold=0.5)
    assert result.node_mask.tolist() == [False, False, False, True, True]
    assert not result.edge_mask.any()


def test_thresholds_outside_zero_to_one_are_refused():
    with pytest.raises(ValueError, match="node_threshold"):
        prune(hand_graph(), node_threshold=1.5)


def test_rank_correlation_shares_tied_ranks_and_ignores_scale():
    from saekit.analysis.graphs.validation import _ranks, _spearman

    assert _ranks([3.0, 1.0, 3.0, 2.0]) == [2.5, 0.0, 2.5, 1.0]
    assert _spearman([1.0, 2.0, 3.0, 4.0], [10.0, 20.0, 300.0, 4000.0]) == pytest.approx(1.0)
    assert _spearman([1.0, 2.0, 3.0], [3.0, 2.0, 1.0]) == pytest.approx(-1.0)
