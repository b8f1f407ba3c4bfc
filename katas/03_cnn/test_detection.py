"""detection.py: IoU, NMS, anchors, box coding, YOLO targets and AP against torchvision's rules.

torchvision does not run beside this torch: reference/oracles/detection.py rewrites its ops
in torch, and the pinned cases below are worked out by hand in their docstrings.
"""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from checker import assert_close, assert_true, call, describe, kata
from checker import strategies as cs
from reference.oracles import detection as oracle

det = kata("03_cnn/detection")
THRESHOLDS = [0.0, 0.25, 1 / 3, 0.5, 0.7]  # 1/3 and 0.5 are hit exactly by integer boxes


def random_boxes(rng, n, lo=0.0, hi=60.0, min_side=0.0):
    xy = rng.uniform(lo, hi, (n, 2))
    return np.concatenate([xy, xy + rng.uniform(min_side, 30.0, (n, 2))], axis=1)


@st.composite
def box_arrays(draw, max_n=7, positive=False):
    """(n, 4) boxes: integer corners (exact ties, zero-area boxes) or floats; any layout."""
    n = draw(st.integers(0, max_n))
    side_min = 1 if positive else 0
    if draw(st.booleans()):
        corner, side = st.integers(0, 12).map(float), st.integers(side_min, 8).map(float)
    else:
        corner, side = cs.floats(0.0, 50.0), st.one_of(st.just(float(side_min)), cs.floats(1, 30))
    xy = draw(hnp.arrays(np.float64, (n, 2), elements=corner, fill=st.nothing()))
    wh = draw(hnp.arrays(np.float64, (n, 2), elements=side, fill=st.nothing()))
    boxes = np.concatenate([xy, xy + wh], axis=1)
    layout = draw(st.sampled_from(["contiguous", "strided", "column-major"]))
    if layout == "strided" and n:
        return cs.noncontiguous(boxes)
    return np.asfortranarray(boxes) if layout == "column-major" else boxes


def check_keep(keep, want, boxes, scores, thr, fn="nms", classes=None):
    """Kept indices, exactly; a failure names the boxes that should have gone or stayed."""
    __tracebackhide__ = True
    ok = isinstance(keep, np.ndarray) and keep.ndim == 1 and keep.dtype == np.int64
    assert_true(ok, f"{fn} must return a 1-D int64 array of indices; got {describe(keep)}")
    if np.array_equal(keep, want):
        return
    iou, mine = oracle.box_iou(boxes, boxes).numpy(), keep.tolist()
    lines = [f"{fn} kept {mine}; torch keeps {want.tolist()} (iou_threshold={thr:g})."]
    if sorted(mine) == sorted(want.tolist()):
        lines.append("The right boxes in the wrong order: sort them by decreasing score.")
    elif len(mine) > 1 and np.any(np.diff(scores[keep]) > 0):
        lines.append("Your kept boxes are not in decreasing score order: visit them best first.")
    for b in sorted(set(mine) - set(want.tolist()))[:3]:
        k = next((k for k in want if k != b and iou[k, b] > thr and scores[k] >= scores[b]), None)
        if k is not None:
            lines.append(f"Box {b} overlaps kept box {k} (score {scores[k]:g} >= {scores[b]:g}) "
                         f"with IoU {iou[k, b]:.4g} > {thr:g}: it must be suppressed.")  # fmt: skip
    for b in sorted(set(want.tolist()) - set(mine))[:3]:
        lines.append(f"Box {b} must be kept{why_kept(b, iou, scores, thr, mine, classes)}.")
    assert_true(False, "\n".join(lines))


def why_kept(b, iou, scores, thr, mine, classes):
    """The likeliest reason a box torch keeps was dropped, from the boxes that overlap it."""
    others = [k for k in range(len(scores)) if k != b]
    reasons = (
        (lambda k: classes is not None and classes[k] != classes[b] and iou[k, b] >= thr,
         lambda k: f"box {k} is of class {classes[k]}, box {b} of class {classes[b]}, and "
                   "boxes of different classes never suppress each other"),
        (lambda k: scores[k] < scores[b] and iou[k, b] > thr,
         lambda k: f"box {k} overlaps it but has a lower score ({scores[k]:g} < {scores[b]:g}): "
                   "visit boxes by decreasing score"),
        (lambda k: k not in mine and iou[k, b] > thr,
         lambda k: f"box {k} overlaps it, but box {k} was itself suppressed, so it suppresses "
                   "nothing"),
        (lambda k: iou[k, b] == thr,
         lambda k: f"its IoU with box {k} is exactly the threshold, which does not suppress "
                   "(> not >=)"),
    )  # fmt: skip
    for applies, say in reasons:
        k = next((k for k in others if applies(k)), None)
        if k is not None:
            return ": " + say(k)
    return ""


# ----------------------------------------------------------------------------- IoU


@pytest.mark.oracle
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_box_iou_matches_torch(dtype, rng):
    b1, b2 = random_boxes(rng, 6).astype(dtype), random_boxes(rng, 4).astype(dtype)
    iou = call(det.box_iou, b1, b2)
    plus_one = oracle.box_iou(b1.astype(np.float64), b2.astype(np.float64), plus_one=True)
    assert_close(iou, oracle.box_iou(b1, b2), dtype=dtype, name="iou",
                 mistakes={"the +1 pixel convention (width x2 - x1 + 1)": plus_one})  # fmt: skip


@pytest.mark.property
@given(b1=box_arrays(), b2=box_arrays())
def test_box_iou_matches_torch_for_any_boxes(b1, b2):
    assert_close(call(det.box_iou, b1, b2), oracle.box_iou(b1, b2), name="iou")


@pytest.mark.edge
def test_box_iou_of_hand_checked_pairs():
    """[0,0,2,2] vs [1,0,3,2]: overlap 1x2 = 2, union 4 + 4 - 2 = 6, IoU 1/3. Touching or
    disjoint boxes: 0. A zero-area box: 0, against itself too (union 0)."""
    a = np.array([[0.0, 0, 2, 2], [5, 5, 5, 9]])  # a square; a zero-width line
    b = np.array([[1.0, 0, 3, 2], [2, 0, 4, 2], [6, 6, 9, 9], [5, 5, 5, 9]])
    want = np.array([[1 / 3, 0, 0, 0], [0, 0, 0, 0]])
    plus_one = oracle.box_iou(a, b, plus_one=True)
    assert_close(call(det.box_iou, a, b), want, name="iou",
                 mistakes={"the +1 pixel convention": plus_one})  # fmt: skip


# ----------------------------------------------------------------------------- NMS


@pytest.mark.oracle
def test_nms_matches_torch(rng):
    boxes, scores = random_boxes(rng, 30, hi=40), rng.uniform(0, 1, 30)
    check_keep(
        call(det.nms, boxes, scores, 0.4), oracle.nms(boxes, scores, 0.4), boxes, scores, 0.4
    )


@pytest.mark.property
@given(boxes=box_arrays(max_n=9), thr=st.sampled_from(THRESHOLDS), data=st.data())
def test_nms_matches_torch_for_any_boxes_ties_and_thresholds(boxes, thr, data):
    n = len(boxes)
    scores = data.draw(hnp.arrays(np.float64, (n,), elements=st.sampled_from([0.1, 0.5, 0.9])))
    keep = call(det.nms, boxes, scores, thr)
    check_keep(keep, oracle.nms(boxes, scores, thr), boxes, scores, thr)


@pytest.mark.edge
def test_nms_suppressed_box_suppresses_nothing():
    """A [0,10] (0.9), B [5,15] (0.8), C [10,20] (0.7): IoU(A,B) = IoU(B,C) = 50/150 = 1/3,
    IoU(A,C) = 0. At 0.3 A suppresses B, and B, gone, cannot suppress C: keep [A, C]."""
    boxes = np.array([[0.0, 0, 10, 10], [5, 0, 15, 10], [10, 0, 20, 10]])
    scores = np.array([0.9, 0.8, 0.7])
    keep = call(det.nms, boxes, scores, 0.3)
    check_keep(keep, np.array([0, 2]), boxes, scores, 0.3)


@pytest.mark.edge
def test_nms_keeps_iou_equal_to_threshold_and_orders_by_score():
    """[0,0,3,1] vs [1,0,4,1]: overlap 2, union 4, IoU exactly 0.5, which is not > 0.5.
    Scores come unsorted, with a tie: kept indices go by score, ties by index."""
    boxes = np.array([[20.0, 0, 23, 1], [0, 0, 3, 1], [1, 0, 4, 1], [40, 0, 41, 1]])
    scores = np.array([0.5, 0.6, 0.9, 0.6])
    keep = call(det.nms, boxes, scores, 0.5)
    check_keep(keep, np.array([2, 1, 3, 0]), boxes, scores, 0.5)


@pytest.mark.edge
def test_nms_of_no_boxes_is_empty():
    check_keep(call(det.nms, np.zeros((0, 4)), np.zeros(0), 0.5), np.zeros(0, np.int64),
               np.zeros((0, 4)), np.zeros(0), 0.5)  # fmt: skip


@pytest.mark.edge
def test_batched_nms_keeps_the_same_box_in_two_classes():
    """Boxes 0 and 1 are one box, called a cat (0) and a dog (1): both stay. Box 2, a second
    cat on the same spot with a lower score, goes."""
    boxes = np.array([[10.0, 10, 30, 30], [10, 10, 30, 30], [11, 10, 30, 30]])
    scores, classes = np.array([0.9, 0.8, 0.7]), np.array([0, 1, 0])
    keep = call(det.batched_nms, boxes, scores, classes, 0.5)
    check_keep(keep, np.array([0, 1]), boxes, scores, 0.5, fn="batched_nms", classes=classes)


@pytest.mark.property
@given(boxes=box_arrays(max_n=9), thr=st.sampled_from(THRESHOLDS), data=st.data())
def test_batched_nms_never_suppresses_across_classes(boxes, thr, data):
    n = len(boxes)
    scores = data.draw(hnp.arrays(np.float64, (n,), elements=st.sampled_from([0.2, 0.4, 0.8])))
    classes = data.draw(hnp.arrays(np.int64, (n,), elements=st.integers(0, 2)))
    keep = call(det.batched_nms, boxes, scores, classes, thr)
    check_keep(keep, oracle.batched_nms(boxes, scores, classes, thr), boxes, scores, thr,
               fn="batched_nms", classes=classes)  # fmt: skip


# ----------------------------------------------------------------------------- anchors


@pytest.mark.oracle
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_make_anchors_matches_torchvision(dtype):
    args = ((3, 5), (16, 8), (32, 64, 100), (0.5, 1.0, 2.0))
    anchors = call(det.make_anchors, *args, dtype=dtype)
    slips = {"aspect ratio taken as width / height (it is height / width)":
             oracle.make_anchors(*args, dtype, invert_ratio=True),
             "base anchors not rounded to whole pixels":
             oracle.make_anchors(*args, dtype, no_round=True)}  # fmt: skip
    assert_close(anchors, oracle.make_anchors(*args, dtype), name="anchors", mistakes=slips)


@pytest.mark.edge
def test_anchors_of_a_hand_checked_1x2_grid():
    """Size 32, ratio 0.5: w = 32 * sqrt(2) = 45.25, h = 22.63; halves rounded: 23, 11.
    Ratio 1: 16, 16; ratio 2: 11, 23. Cell (0, 1) with stride 16 shifts x by 16."""
    base = np.array([[-23.0, -11, 23, 11], [-16, -16, 16, 16], [-11, -23, 11, 23]])
    want = np.concatenate([base, base + [16, 0, 16, 0]]).astype(np.float32)
    assert_close(call(det.make_anchors, (1, 2), 16, (32,), (0.5, 1.0, 2.0)), want, name="anchors")


# ----------------------------------------------------------------------------- box coding


@pytest.mark.oracle
@pytest.mark.parametrize("weights", [(1.0, 1.0, 1.0, 1.0), (10.0, 10.0, 5.0, 5.0)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_encode_boxes_matches_torchvision(weights, dtype, rng):
    boxes, anchors = random_boxes(rng, 8, min_side=1), random_boxes(rng, 8, min_side=1)
    codes = call(det.encode_boxes, boxes.astype(dtype), anchors.astype(dtype), weights)
    swapped = oracle.encode_boxes(boxes, anchors, weights, swap_wh=True)
    assert_close(codes, oracle.encode_boxes(boxes.astype(dtype), anchors.astype(dtype), weights),
                 dtype=dtype, tol="reduction", name="codes",
                 mistakes={"anchor width and height swapped": swapped})  # fmt: skip


@pytest.mark.edge
def test_encode_of_a_hand_checked_box():
    """Anchor [0,0,10,20] (centre (5,10), 10x20), box [5,0,15,40] (centre (10,20), 10x40):
    dx = 5/10, dy = 10/20, dw = log(10/10), dh = log(40/20)."""
    codes = call(det.encode_boxes, np.array([[5.0, 0, 15, 40]]), np.array([[0.0, 0, 10, 20]]))
    assert_close(codes, np.array([[0.5, 0.5, 0.0, math.log(2)]]), name="codes")


@pytest.mark.oracle
@pytest.mark.property
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(0, 6),
       weights=st.sampled_from([(1.0, 1.0, 1.0, 1.0), (10.0, 10.0, 5.0, 5.0)]))  # fmt: skip
def test_decode_matches_torchvision_and_inverts_encode(seed, n, weights):
    rng = np.random.default_rng(seed)
    anchors, codes = random_boxes(rng, n, min_side=1), rng.normal(0, 2, (n, 4))
    boxes = call(det.decode_boxes, cs.noncontiguous(codes), anchors, weights)
    unclamped = oracle.decode_boxes(codes, anchors, weights, clip=None)
    assert_close(boxes, oracle.decode_boxes(codes, anchors, weights), tol="reduction",
                 name="decoded boxes", mistakes={"dw, dh not clamped": unclamped})  # fmt: skip
    gt = random_boxes(rng, n, min_side=1)
    back = call(det.decode_boxes, oracle.encode_boxes(gt, anchors, weights), anchors, weights)
    assert_close(back, gt, tol="reduction", name="decode(encode(boxes))")


@pytest.mark.edge
def test_decode_clamps_growth_at_log_1000_over_16():
    """dw = 10 is clamped to log(62.5): a 16-pixel anchor grows to 1000, not 16 e^10 = 352,423
    pixels; dh = -10 is not clamped (shrinking cannot overflow): h = 16 e^-10."""
    boxes = call(det.decode_boxes, np.array([[0.0, 0, 10, -10]]), np.array([[0.0, 0, 16, 16]]))
    h = 16 * math.exp(-10)
    unclamped = oracle.decode_boxes(np.array([[0.0, 0, 10, -10]]), np.array([[0.0, 0, 16, 16]]),
                                    clip=None)  # fmt: skip
    assert_close(boxes, np.array([[-492.0, 8 - h / 2, 508, 8 + h / 2]]), tol="reduction",
                 name="boxes", mistakes={"dw not clamped": unclamped})  # fmt: skip


# ----------------------------------------------------------------------------- YOLO targets


def check_yolo(result, want):
    __tracebackhide__ = True
    ok = isinstance(result, tuple) and len(result) == 3
    assert_true(ok, "yolo_targets must return (box_targets, object_mask, class_targets); got "
                f"{describe(result)}")  # fmt: skip
    for mine, theirs, name in zip(result, want, ("box_targets", "object_mask", "class_targets")):
        assert_close(mine, theirs, tol="reduction", name=name)


@pytest.mark.oracle
@pytest.mark.property
@given(boxes=box_arrays(positive=True), seed=st.integers(0, 2**32 - 1),
       grid=st.sampled_from([(1, 1), (2, 3), (4, 4)]))  # fmt: skip
def test_yolo_targets_match_the_reference(boxes, seed, grid):
    rng = np.random.default_rng(seed)
    labels, anchors = rng.integers(0, 5, len(boxes)), rng.uniform(2, 40, (3, 2))
    result = call(det.yolo_targets, boxes, labels, anchors, grid, (48, 60))
    check_yolo(result, oracle.yolo_targets(boxes, labels, anchors, grid, (48, 60)))


@pytest.mark.edge
def test_yolo_targets_of_hand_checked_boxes():
    """64x64 image, 2x2 grid (32-pixel cells), anchors 10x10 and 40x20.
    Box 0 [38,6,58,16]: 20x10 centred (48, 11): row 0, column 1; shape IoU 100/200 with
      10x10 beats 200/800: anchor 0; t = (48/32 - 1, 11/32, log 2, log 1).
    Box 1 [0,40,40,60]: 40x20 centred (20, 50): row 1, column 0, anchor 1; t = (.625, .5625, 0, 0).
    Box 2 [56,40,72,50]: 16x10 centred on the right edge (64, 45): column 2 clipped to 1,
      tx = 1; anchor 0 (IoU 100/160 vs 160/800); box 3 lands in the same slot and wins."""
    boxes = np.array([[38.0, 6, 58, 16], [0, 40, 40, 60], [56, 40, 72, 50], [54, 38, 74, 48]])
    anchors = np.array([[10.0, 10], [40, 20]])
    result = call(det.yolo_targets, boxes, np.array([3, 1, 4, 2]), anchors, (2, 2), (64, 64))
    box_t, obj, cls = np.zeros((2, 2, 2, 4)), np.zeros((2, 2, 2), bool), np.full((2, 2, 2), -1)
    box_t[0, 1, 0], obj[0, 1, 0], cls[0, 1, 0] = [0.5, 11 / 32, math.log(2), 0.0], True, 3
    box_t[1, 0, 1], obj[1, 0, 1], cls[1, 0, 1] = [0.625, 0.5625, 0.0, 0.0], True, 1
    box_t[1, 1, 0], obj[1, 1, 0], cls[1, 1, 0] = [1.0, 43 / 32 - 1, math.log(2), 0.0], True, 2
    check_yolo(result, (box_t, obj, cls.astype(np.int64)))


# ----------------------------------------------------------------------------- AP


@pytest.mark.oracle
@pytest.mark.property
@given(boxes=box_arrays(max_n=8), gt=box_arrays(max_n=5), data=st.data(),
       thr=st.sampled_from([0.3, 0.5]))  # fmt: skip
def test_match_detections_matches_the_reference(boxes, gt, data, thr):
    scores = data.draw(hnp.arrays(np.float64, (len(boxes),), elements=st.sampled_from([0.3, 0.6])))
    is_tp = call(det.match_detections, boxes, scores, gt, thr)
    twice = oracle.match_detections(boxes, scores, gt, thr, reuse_gt=True)
    assert_close(is_tp, oracle.match_detections(boxes, scores, gt, thr), name="is_tp",
                 mistakes={"a ground-truth box matched twice": twice})  # fmt: skip


@pytest.mark.edge
def test_a_duplicate_detection_is_a_false_positive():
    """Two detections of the one object: the more confident (listed second) is the true one."""
    gt = np.array([[0.0, 0, 10, 10]])
    boxes, scores = np.array([[0.0, 0, 10, 10], [1, 1, 10, 10]]), np.array([0.6, 0.9])
    is_tp = call(det.match_detections, boxes, scores, gt)
    assert_close(is_tp, np.array([False, True]), name="is_tp",
                 mistakes={"a ground-truth box matched twice": np.array([True, True])})  # fmt: skip


@pytest.mark.oracle
@pytest.mark.property
@pytest.mark.parametrize("method", ["voc", "coco"])
@given(data=st.data(), n=st.integers(0, 12), extra_gt=st.integers(0, 4))
def test_average_precision_matches_the_reference(method, data, n, extra_gt):
    scores = data.draw(hnp.arrays(np.float64, (n,), elements=st.sampled_from([0.2, 0.5, 0.7, 0.9])))
    is_tp = data.draw(hnp.arrays(np.bool_, (n,)))
    num_gt = int(is_tp.sum()) + extra_gt
    ap = call(det.average_precision, scores, is_tp, num_gt, method=method)
    raw = oracle.average_precision(scores, is_tp, num_gt, method, envelope=False)
    assert_close(ap, np.float64(oracle.average_precision(scores, is_tp, num_gt, method)),
                 tol="reduction", name="AP",
                 mistakes={"no precision envelope (running max from the right)": raw})  # fmt: skip


AP_CASES = {  # scores, is_tp, num_gt -> (VOC, COCO), worked out in the docstring below
    "perfect detector": ([0.9, 0.8, 0.7], [True, True, True], 3, 1.0, 1.0),
    "false positive ranked first": ([0.9, 0.8, 0.7], [False, True, True], 2, 2 / 3, 2 / 3),
    "half the objects found": ([0.9], [True], 2, 0.5, 51 / 101),
    "no detections": ([], [], 2, 0.0, 0.0),
}


@pytest.mark.edge
@pytest.mark.parametrize("case", AP_CASES)
def test_average_precision_of_hand_checked_rankings(case):
    """FP first: precision 0, 1/2, 2/3 at recall 0, 1/2, 1; the envelope lifts the first two to
    2/3, so AP = 2/3 both ways (without it, VOC gives 0.5 * 1/2 + 0.5 * 2/3 = 0.583).
    Half found: precision 1 up to recall 1/2, then nothing: VOC 0.5, COCO 51 of 101 points."""
    scores, is_tp, num_gt, voc, coco = AP_CASES[case]
    scores, is_tp = np.array(scores, dtype=np.float64), np.array(is_tp, dtype=bool)
    for method, want in (("voc", voc), ("coco", coco)):
        ap = call(det.average_precision, scores, is_tp, num_gt, method=method)
        raw = oracle.average_precision(scores, is_tp, num_gt, method, envelope=False)
        assert_close(ap, np.float64(want), tol="reduction", name=f"{method} AP ({case})",
                     mistakes={"no precision envelope": raw})  # fmt: skip


@pytest.mark.edge
def test_average_precision_without_ground_truth_is_nan_and_methods_are_checked():
    ap = call(det.average_precision, np.array([0.9]), np.array([False]), 0)
    assert_true(isinstance(ap, float) and math.isnan(ap),
                f"with num_gt = 0 recall is undefined: return nan; got {ap!r}")  # fmt: skip
    with pytest.raises(ValueError):
        call(det.average_precision, np.array([0.9]), np.array([True]), 1, method="11-point")
