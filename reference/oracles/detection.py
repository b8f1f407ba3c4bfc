"""Oracle for 03_cnn/detection: torchvision's detection ops, rewritten in torch.

torchvision does not import beside this torch, so these are its algorithms, line for
line where it has them (box_iou, nms, batched_nms's coordinate trick, AnchorGenerator,
BoxCoder), and written from the papers and the reference evaluators where it has
none (YOLO targets; AP as in the PASCAL VOC devkit and pycocotools). Choices that
torchvision leaves open are pinned here and in the stub's docstrings:

- box_iou is 0 where the union is 0 (two zero-area boxes); torchvision gives 0/0 = nan.
- nms breaks score ties by index (a stable sort); torchvision's CPU sort is not stable.
- detections are matched to ground truth as pycocotools does: each detection, in score
  order, takes the best still-unmatched ground-truth box with IoU >= threshold.

Inputs are NumPy arrays; everything runs in the inputs' dtype (float64 in the tests'
oracle calls unless a test asks for float32, as torchvision would run in float32).
"""

from __future__ import annotations

import math

import numpy as np
import torch

BBOX_XFORM_CLIP = math.log(1000.0 / 16)


def _t(x, dtype=None) -> torch.Tensor:
    t = torch.from_numpy(np.array(x, copy=True))
    return t if dtype is None else t.to(dtype)


def box_area(boxes: torch.Tensor) -> torch.Tensor:
    return (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])


def box_iou_t(boxes1: torch.Tensor, boxes2: torch.Tensor, plus_one: bool = False) -> torch.Tensor:
    """torchvision.ops.box_iou, with 0 where the union is 0 (plus_one: the old +1 pixel rule)."""
    one = 1.0 if plus_one else 0.0
    area1 = (boxes1[:, 2] - boxes1[:, 0] + one) * (boxes1[:, 3] - boxes1[:, 1] + one)
    area2 = (boxes2[:, 2] - boxes2[:, 0] + one) * (boxes2[:, 3] - boxes2[:, 1] + one)
    lt = torch.max(boxes1[:, None, :2], boxes2[:, :2])  # (N, M, 2)
    rb = torch.min(boxes1[:, None, 2:], boxes2[:, 2:])  # (N, M, 2)
    wh = (rb - lt + one).clamp(min=0)  # (N, M, 2)
    inter = wh[:, :, 0] * wh[:, :, 1]
    union = area1[:, None] + area2 - inter
    return torch.where(union > 0, inter / torch.where(union > 0, union, 1), 0)


def box_iou(boxes1, boxes2, plus_one: bool = False) -> torch.Tensor:
    return box_iou_t(_t(boxes1), _t(boxes2), plus_one)


def nms(boxes, scores, iou_threshold: float, *, ge: bool = False, resort: bool = True,
        suppressed_suppress: bool = False) -> np.ndarray:  # fmt: skip
    """torchvision's CPU nms kernel, with a stable sort; the flags reproduce learner slips."""
    boxes, scores = _t(boxes), _t(scores)
    if boxes.numel() == 0:
        return np.zeros(0, dtype=np.int64)
    order = torch.sort(scores, descending=True, stable=True)[1] if resort else torch.arange(
        len(scores))  # fmt: skip
    iou = box_iou_t(boxes, boxes)
    suppressed = torch.zeros(len(scores), dtype=torch.bool)
    keep = []
    for _i, i in enumerate(order.tolist()):
        if suppressed[i] and not suppressed_suppress:
            continue
        if not suppressed[i]:
            keep.append(i)
        for j in order[_i + 1 :].tolist():
            over = iou[i, j] >= iou_threshold if ge else iou[i, j] > iou_threshold
            if over:
                suppressed[j] = True
    return np.array(keep, dtype=np.int64)


def batched_nms(boxes, scores, classes, iou_threshold: float) -> np.ndarray:
    """torchvision's _batched_nms_coordinate_trick: shift each class far from the others."""
    b = _t(boxes)
    if b.numel() == 0:
        return np.zeros(0, dtype=np.int64)
    offsets = _t(classes).to(b) * (b.max() + torch.tensor(1).to(b))
    return nms((b + offsets[:, None]).numpy(), scores, iou_threshold)


def make_anchors(grid_size, stride, sizes, aspect_ratios, dtype=np.float32, *,
                 invert_ratio=False, no_round=False) -> np.ndarray:  # fmt: skip
    """AnchorGenerator.generate_anchors + grid_anchors for one feature map."""
    tdtype = torch.float32 if np.dtype(dtype) == np.float32 else torch.float64
    scales = torch.as_tensor(sizes, dtype=tdtype)
    ratios = torch.as_tensor(aspect_ratios, dtype=tdtype)
    h_ratios = torch.sqrt(ratios)  # aspect ratio = height / width
    w_ratios = 1 / h_ratios
    if invert_ratio:
        h_ratios, w_ratios = w_ratios, h_ratios
    ws = (w_ratios[:, None] * scales[None, :]).view(-1)  # ratio-major, size-minor
    hs = (h_ratios[:, None] * scales[None, :]).view(-1)
    base = torch.stack([-ws, -hs, ws, hs], dim=1) / 2
    base = base if no_round else base.round()
    (gh, gw), (sh, sw) = grid_size, (stride, stride) if np.isscalar(stride) else stride
    shifts_x = torch.arange(0, gw, dtype=tdtype) * sw
    shifts_y = torch.arange(0, gh, dtype=tdtype) * sh
    shift_y, shift_x = torch.meshgrid(shifts_y, shifts_x, indexing="ij")
    shift_x, shift_y = shift_x.reshape(-1), shift_y.reshape(-1)
    shifts = torch.stack((shift_x, shift_y, shift_x, shift_y), dim=1)
    return (shifts.view(-1, 1, 4) + base.view(1, -1, 4)).reshape(-1, 4).numpy()


def encode_boxes(boxes, anchors, weights=(1.0, 1.0, 1.0, 1.0), *, swap_wh=False) -> np.ndarray:
    """BoxCoder.encode_single: the regression targets that turn each anchor into its box."""
    gt, an = _t(boxes), _t(anchors)
    wx, wy, ww, wh = weights
    aw, ah = an[:, 2] - an[:, 0], an[:, 3] - an[:, 1]
    acx, acy = an[:, 0] + 0.5 * aw, an[:, 1] + 0.5 * ah
    gw, gh = gt[:, 2] - gt[:, 0], gt[:, 3] - gt[:, 1]
    gcx, gcy = gt[:, 0] + 0.5 * gw, gt[:, 1] + 0.5 * gh
    if swap_wh:
        aw, ah = ah, aw
    dx = wx * (gcx - acx) / aw
    dy = wy * (gcy - acy) / ah
    dw = ww * torch.log(gw / aw)
    dh = wh * torch.log(gh / ah)
    return torch.stack((dx, dy, dw, dh), dim=1).numpy()


def decode_boxes(codes, anchors, weights=(1.0, 1.0, 1.0, 1.0), clip=BBOX_XFORM_CLIP) -> np.ndarray:
    """BoxCoder.decode_single (one class): boxes from anchors and regression codes."""
    rel, an = _t(codes), _t(anchors)
    an = an.to(rel.dtype)
    widths, heights = an[:, 2] - an[:, 0], an[:, 3] - an[:, 1]
    ctr_x, ctr_y = an[:, 0] + 0.5 * widths, an[:, 1] + 0.5 * heights
    wx, wy, ww, wh = weights
    dx, dy, dw, dh = rel[:, 0] / wx, rel[:, 1] / wy, rel[:, 2] / ww, rel[:, 3] / wh
    if clip is not None:  # keep exp() finite
        dw, dh = torch.clamp(dw, max=clip), torch.clamp(dh, max=clip)
    pred_ctr_x, pred_ctr_y = dx * widths + ctr_x, dy * heights + ctr_y
    pred_w, pred_h = torch.exp(dw) * widths, torch.exp(dh) * heights
    half_w, half_h = 0.5 * pred_w, 0.5 * pred_h
    return torch.stack(
        (pred_ctr_x - half_w, pred_ctr_y - half_h, pred_ctr_x + half_w, pred_ctr_y + half_h), dim=1
    ).numpy()


def yolo_targets(boxes, labels, anchors, grid_size, image_size):
    """YOLOv2/v3-style targets: the centre's cell, the best anchor by shape IoU, offsets."""
    b, an = _t(boxes), _t(anchors)
    (gh, gw), (img_h, img_w) = grid_size, image_size
    cell_w, cell_h = img_w / gw, img_h / gh
    A = an.shape[0]
    box_t = torch.zeros((gh, gw, A, 4), dtype=b.dtype)
    obj = torch.zeros((gh, gw, A), dtype=torch.bool)
    cls = torch.full((gh, gw, A), -1, dtype=torch.int64)
    for k in range(b.shape[0]):  # in order: a later box in the same slot replaces an earlier one
        x1, y1, x2, y2 = b[k]
        w, h = x2 - x1, y2 - y1
        cx, cy = x1 + w / 2, y1 + h / 2
        j = min(max(int(torch.floor(cx / cell_w)), 0), gw - 1)
        i = min(max(int(torch.floor(cy / cell_h)), 0), gh - 1)
        inter = torch.minimum(w, an[:, 0]) * torch.minimum(h, an[:, 1])
        shape_iou = inter / (w * h + an[:, 0] * an[:, 1] - inter)
        a = int(torch.argmax(shape_iou))  # the first of equal best anchors
        slot = (i, j, a)
        box_t[slot] = torch.stack(
            (cx / cell_w - j, cy / cell_h - i, torch.log(w / an[a, 0]), torch.log(h / an[a, 1]))
        )
        obj[slot] = True
        cls[slot] = int(labels[k])
    return box_t.numpy(), obj.numpy(), cls.numpy()


def match_detections(boxes, scores, gt_boxes, iou_threshold=0.5, *, reuse_gt=False) -> np.ndarray:
    """pycocotools' greedy matching; is_tp in the detections' input order."""
    n = len(scores)
    is_tp = torch.zeros(n, dtype=torch.bool)
    if n == 0 or len(gt_boxes) == 0:
        return is_tp.numpy()
    iou = box_iou(boxes, gt_boxes)  # (N, M)
    taken = torch.zeros(iou.shape[1], dtype=torch.bool)
    for d in torch.sort(_t(scores), descending=True, stable=True)[1].tolist():
        candidates = iou[d].masked_fill(taken, -1.0) if not reuse_gt else iou[d]
        g = int(torch.argmax(candidates))
        if candidates[g] >= iou_threshold:
            is_tp[d] = True
            taken[g] = True
    return is_tp.numpy()


def average_precision(scores, is_tp, num_gt: int, method: str = "voc", *,
                      envelope: bool = True) -> float:  # fmt: skip
    """Area under the precision-recall curve: VOC all-point, or COCO's 101 recall points."""
    if num_gt == 0:
        return float("nan")
    order = torch.sort(_t(scores, torch.float64), descending=True, stable=True)[1]
    tp = _t(is_tp, torch.float64)[order]
    tp_cum, fp_cum = torch.cumsum(tp, 0), torch.cumsum(1 - tp, 0)
    recall = tp_cum / num_gt
    precision = tp_cum / torch.clamp(tp_cum + fp_cum, min=1)

    def env(p):  # the best precision at this recall or any higher one
        return torch.flip(torch.cummax(torch.flip(p, [0]), 0)[0], [0]) if envelope else p

    if method == "voc":
        mrec = torch.cat([torch.zeros(1), recall, torch.ones(1)]).double()
        mpre = env(torch.cat([torch.zeros(1), precision, torch.zeros(1)]).double())
        i = torch.nonzero(mrec[1:] != mrec[:-1]).flatten()
        return float(torch.sum((mrec[i + 1] - mrec[i]) * mpre[i + 1]))
    thresholds = torch.from_numpy(np.linspace(0, 1, 101))  # pycocotools' recall points, bit for bit
    if len(tp) == 0:
        return 0.0
    prec = env(precision)
    inds = torch.searchsorted(recall, thresholds, side="left")
    q = torch.where(inds < len(prec), prec[inds.clamp(max=len(prec) - 1)], 0.0)
    return float(q.mean())
