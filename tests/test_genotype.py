import json

import pytest

from nas_optuna import NASNET_A, Block, Cell, Genotype, parse_genotype


def test_nasnet_a_is_as_released():
    normal, reduction = NASNET_A.normal, NASNET_A.reduction
    assert normal.blocks[0] == Block(0, 1, "sep_conv_5x5", "sep_conv_3x3", "add")
    assert normal.blocks[4] == Block(0, 0, "sep_conv_3x3", "identity", "add")
    assert reduction.blocks[3] == Block(3, 2, "identity", "avg_pool_3x3", "add")
    assert normal.output_states("released") == (1, 2, 3, 4, 5, 6)
    assert reduction.output_states("released") == (3, 4, 5, 6)
    # The paper's rule concatenates only states no block reads.
    assert normal.output_states("strict") == (2, 3, 4, 5, 6)
    assert reduction.output_states("strict") == (4, 5, 6)


def test_genotypes_are_immutable_and_hashable():
    with pytest.raises(AttributeError):
        NASNET_A.normal = NASNET_A.reduction
    assert len({NASNET_A, Genotype.from_json(NASNET_A.to_json())}) == 1


def test_strict_rule_keeps_unused_cell_inputs_and_released_falls_back_to_it():
    cell = Cell((Block(1, 1, "identity", "conv_1x1", "concat"), Block(2, 2, "max_pool_3x3", "identity")))
    assert cell.output_states("strict") == (0, 3)
    assert cell.output_states("released") == (0, 3)
    with pytest.raises(ValueError, match="concat rule"):
        cell.output_states("loose")


def test_string_form_is_readable_and_round_trips_concat_blocks():
    cell = Cell((Block(0, 1, "conv_3x3", "identity", "concat"),))
    genotype = Genotype(cell, Cell((Block(1, 0, "max_pool_5x5", "dil_conv_3x3", "add"),)))
    text = str(genotype)
    assert text == ("normal: concat(conv_3x3@0, identity@1); reduction: add(max_pool_5x5@1, dil_conv_3x3@0)")
    assert Genotype.from_string(text) == genotype
    assert json.loads(genotype.to_json())["normal"]["blocks"][0]["combine"] == "concat"


def test_parse_genotype_accepts_name_string_and_json():
    assert parse_genotype("NASNet-A") == NASNET_A
    assert parse_genotype(str(NASNET_A)) == NASNET_A
    assert parse_genotype(NASNET_A.to_json()) == NASNET_A
    with pytest.raises(ValueError, match="unknown genotype 'nasnet-z'"):
        parse_genotype("nasnet-z")
    with pytest.raises(ValueError, match="cannot read block"):
        parse_genotype("normal: add(sep_conv_3x3@0 identity@1)")
    with pytest.raises(ValueError, match="cannot read genotype JSON"):
        parse_genotype('{"normal": 3}')


def test_genotype_user_attrs_give_each_cell_in_one_short_line():
    from nas_optuna.genotype import genotype_user_attrs

    attrs = genotype_user_attrs(NASNET_A)
    assert Genotype.from_string(attrs["genotype"]) == NASNET_A
    assert attrs["normal_cell"] == "sc5@0+sc3@1 sc5@1+sc3@1 ap3@0+i@1 ap3@1+ap3@1 sc3@0+i@0"
    assert attrs["reduction_cell"].split()[0] == "sc5@0+sc7@1"
    assert max(len(v) for k, v in attrs.items() if k != "genotype") < 80
    shared = Genotype(NASNET_A.normal, NASNET_A.normal)
    assert set(genotype_user_attrs(shared)) == {"genotype", "cell"}
