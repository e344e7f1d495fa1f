"""Generated showers get a random rotation or reflection of the geometry's equal angular bins:
each shower is its generated self under one group element, the same seed gives the same
showers, and the sample's observables become those of a symmetric sample."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import stats

from hepgan.models.artefact import load_artefact
from hepgan.models.geometry import get_geometry
from hepgan.models.sampler import noise_seed
from hepgan.models.transforms import FeatureTransform
from hepgan.models.transforms.symmetry import DihedralSymmetry, dihedral_permutations
from hepgan.validation.report.observables import shower_observables
from tests.support.tiny import make_tiny_artefact

GEOMETRY = get_geometry("small")  # 10 layers x 4 angles x 3 radii


@pytest.mark.parametrize("n_showers", [100, 4000])  # one gather, and one per element
def test_each_shower_is_moved_by_one_uniformly_drawn_element(n_showers: int) -> None:
    symmetry = DihedralSymmetry(*GEOMETRY.shape)
    assert len(symmetry.permutations) == 8  # 4 rotations x 2 reflections
    showers = np.random.default_rng(1).exponential(size=(n_showers, GEOMETRY.n_voxels))
    moved = symmetry.apply(showers, np.random.default_rng(2))
    elements = np.random.default_rng(2).integers(8, size=n_showers)  # the draws apply makes
    for row in (0, n_showers // 2, n_showers - 1):
        np.testing.assert_array_equal(
            moved[row], showers[row, symmetry.permutations[elements[row]]]
        )
    matches = (moved[:, None, :] == showers[:, symmetry.permutations]).all(axis=2)  # (N, G)
    assert np.all(matches.sum(axis=1) == 1)  # distinct voxels: exactly one element fits
    counts = np.bincount(matches.argmax(axis=1), minlength=8)
    assert stats.chisquare(counts).pvalue > 1e-3
    # layers and radii stay where they are: their energies are those of the shower
    layers = (moved - showers).reshape(n_showers, GEOMETRY.n_layers, -1).sum(axis=2)
    np.testing.assert_allclose(layers, 0.0, atol=1e-9)
    np.testing.assert_array_equal(
        symmetry.permutations, dihedral_permutations(GEOMETRY.shape)
    )  # the same group as training's augmentation


def test_it_is_stored_with_the_transform_and_old_cards_have_none() -> None:
    transform = FeatureTransform([], symmetry=DihedralSymmetry(10, 4, 3))
    assert FeatureTransform.from_dict(transform.to_dict()).symmetry == DihedralSymmetry(10, 4, 3)
    assert FeatureTransform.from_dict({"steps": []}).symmetry is None


@pytest.fixture(scope="module")
def artefact(tmp_path_factory: pytest.TempPathFactory):
    folder = make_tiny_artefact(tmp_path_factory.mktemp("symmetric"), kind="showers", steps=30)
    return load_artefact(folder)


def test_the_sampler_rotates_what_the_generator_made_with_the_seeds_own_draws(artefact) -> None:
    symmetry = artefact.sampler.feature_transform.symmetry
    assert symmetry == DihedralSymmetry(*GEOMETRY.shape)  # the default for a known geometry
    conditions = artefact.sample_conditions(500, seed=4)
    generated = artefact.generate(500, conditions=conditions, seed=9, batch_size=500)
    np.testing.assert_array_equal(
        generated, artefact.generate(500, conditions=conditions, seed=9, batch_size=500)
    )
    noise = torch.randn(
        500,
        artefact.card.architecture["latent_dim"],
        generator=torch.Generator().manual_seed(noise_seed(9)),
    ).numpy()
    unrotated = artefact.sampler.generate_from_noise(noise, conditions)
    expected = symmetry.apply(unrotated, np.random.default_rng([noise_seed(9), 1]))
    np.testing.assert_array_equal(generated, expected)
    assert not np.array_equal(generated, unrotated)


def test_generated_centres_are_those_of_a_symmetric_sample(artefact) -> None:
    """A quarter turn maps x to y and a reflection y to -y: with the random elements, each
    layer's centre in x has the distribution of its centre in y and of minus itself, even
    from a generator that has learned a preferred direction in 30 steps."""
    energy = np.full((20000, 1), 5e4)  # MeV
    showers = artefact.generate(20000, conditions=energy, seed=3)
    observables = shower_observables(showers, energy[:, 0], GEOMETRY)
    for layer in (0, 4, 9):
        x = observables[f"centre_x_layer_{layer:02d}"]
        y = observables[f"centre_y_layer_{layer:02d}"]
        assert stats.ks_2samp(x, y).pvalue > 1e-3, layer
        assert stats.ks_2samp(x, -x).pvalue > 1e-3, layer
