"""Detection building blocks: IoU, NMS, anchors, box coding, YOLO targets, average precision.

Boxes are (x1, y1, x2, y2) corners, width x2 - x1 (no +1), as in torchvision.
References: Girshick et al., Rich feature hierarchies (R-CNN, 2014), appendix C (box
regression); Ren et al., Faster R-CNN (2015) (anchors); Redmon & Farhadi, YOLO9000
(2016) and YOLOv3 (2018) (targets); Everingham et al., The PASCAL VOC Challenge (2010)
and pycocotools (matching and AP); torchvision.ops and torchvision.models.detection.
"""

import math

import numpy as np

BBOX_XFORM_CLIP = math.log(1000.0 / 16)  # torchvision's cap on decoded dw and dh


def box_iou(boxes1, boxes2):
    """Intersection over union of every box in boxes1 with every box in boxes2."""
    dtype = np.result_type(boxes1, boxes2)
    area1 = (boxes1[:, 2] - boxes1[:, 0]) * (boxes1[:, 3] - boxes1[:, 1])  # (N,)
    area2 = (boxes2[:, 2] - boxes2[:, 0]) * (boxes2[:, 3] - boxes2[:, 1])  # (M,)
    lt = np.maximum(boxes1[:, None, :2], boxes2[None, :, :2])  # (N, M, 2) overlap's top-left
    rb = np.minimum(boxes1[:, None, 2:], boxes2[None, :, 2:])  # (N, M, 2) its bottom-right
    wh = np.clip(rb - lt, 0, None)  # disjoint boxes: a side of 0, not a negative one
    inter = wh[..., 0] * wh[..., 1]  # (N, M)
    union = area1[:, None] + area2[None, :] - inter
    # Two zero-area boxes have union 0: their IoU is 0, not 0/0.
    iou = np.where(union > 0, inter / np.where(union > 0, union, 1), 0)
    return iou.astype(dtype, copy=False)


def nms(boxes, scores, iou_threshold):
    """Keep the best box, drop the boxes that overlap it by more than the threshold, repeat."""
    order = np.argsort(-scores, kind="stable")  # best first; equal scores keep index order
    iou = box_iou(boxes, boxes)  # (N, N), once
    suppressed = np.zeros(len(scores), dtype=bool)
    keep = []
    for i in order:
        if suppressed[i]:
            continue  # a suppressed box suppresses nothing
        keep.append(i)
        suppressed |= iou[i] > iou_threshold  # strictly greater: IoU == threshold survives
    return np.array(keep, dtype=np.int64)


def batched_nms(boxes, scores, classes, iou_threshold):
    """Class-aware NMS with the coordinate trick."""
    if len(boxes) == 0:
        return np.zeros(0, dtype=np.int64)
    # Give each class its own region of the plane: boxes of different classes can no
    # longer overlap, so one nms call never suppresses across classes.
    offsets = classes.astype(boxes.dtype) * (boxes.max() + 1)  # (N,)
    return nms(boxes + offsets[:, None], scores, iou_threshold)


def make_anchors(grid_size, stride, sizes, aspect_ratios, dtype=np.float32):
    """Faster R-CNN anchors: every (ratio, size) base anchor at every feature-map cell."""
    grid_h, grid_w = grid_size
    stride_h, stride_w = (stride, stride) if np.isscalar(stride) else stride
    # 1. Base anchors centred at 0: ratio = h / w, area size^2.
    scales = np.asarray(sizes, dtype=dtype)  # (S,)
    h_ratios = np.sqrt(np.asarray(aspect_ratios, dtype=dtype))  # (R,)
    w_ratios = 1 / h_ratios
    ws = (w_ratios[:, None] * scales[None, :]).reshape(-1)  # (R * S,), ratio-major
    hs = (h_ratios[:, None] * scales[None, :]).reshape(-1)
    base = np.round(np.stack([-ws, -hs, ws, hs], axis=1) / 2)  # (A, 4), whole pixels
    # 2. One shift per cell, row-major: (x, y) = (j * stride_w, i * stride_h).
    shift_x = np.arange(grid_w, dtype=dtype) * stride_w  # (W,)
    shift_y = np.arange(grid_h, dtype=dtype) * stride_h  # (H,)
    sy, sx = np.meshgrid(shift_y, shift_x, indexing="ij")  # (H, W) each
    shifts = np.stack([sx.ravel(), sy.ravel(), sx.ravel(), sy.ravel()], axis=1)  # (H * W, 4)
    # 3. Every base anchor at every cell.
    return (shifts[:, None, :] + base[None, :, :]).reshape(-1, 4)  # (H * W * A, 4)


def _centre_size(boxes):
    """(cx, cy, w, h) columns of (x1, y1, x2, y2) boxes."""
    w = boxes[:, 2] - boxes[:, 0]
    h = boxes[:, 3] - boxes[:, 1]
    return boxes[:, 0] + 0.5 * w, boxes[:, 1] + 0.5 * h, w, h


def encode_boxes(boxes, anchors, weights=(1.0, 1.0, 1.0, 1.0)):
    """R-CNN regression targets (dx, dy, dw, dh) of each box against its anchor."""
    wx, wy, ww, wh = weights
    ax, ay, aw, ah = _centre_size(anchors)
    gx, gy, gw, gh = _centre_size(boxes)
    # Shifts in units of the anchor's size and log size ratios: scale-free targets.
    dx = wx * (gx - ax) / aw
    dy = wy * (gy - ay) / ah
    dw = ww * np.log(gw / aw)
    dh = wh * np.log(gh / ah)
    return np.stack([dx, dy, dw, dh], axis=1)  # (N, 4)


def decode_boxes(codes, anchors, weights=(1.0, 1.0, 1.0, 1.0), clip=BBOX_XFORM_CLIP):
    """Apply (dx, dy, dw, dh) codes to anchors: the inverse of encode_boxes."""
    wx, wy, ww, wh = weights
    ax, ay, aw, ah = _centre_size(anchors.astype(codes.dtype))
    dx, dy = codes[:, 0] / wx, codes[:, 1] / wy
    # exp(100) overflows: cap the growth (shrinking cannot overflow, so only from above).
    dw = np.minimum(codes[:, 2] / ww, clip)
    dh = np.minimum(codes[:, 3] / wh, clip)
    cx, cy = dx * aw + ax, dy * ah + ay
    w, h = np.exp(dw) * aw, np.exp(dh) * ah
    return np.stack([cx - 0.5 * w, cy - 0.5 * h, cx + 0.5 * w, cy + 0.5 * h], axis=1)


def yolo_targets(boxes, labels, anchors, grid_size, image_size):
    """YOLO targets: each box to its centre's cell and its best-shaped anchor."""
    grid_h, grid_w = grid_size
    img_h, img_w = image_size
    cell_w, cell_h = img_w / grid_w, img_h / grid_h
    A = len(anchors)
    box_targets = np.zeros((grid_h, grid_w, A, 4), dtype=boxes.dtype)
    object_mask = np.zeros((grid_h, grid_w, A), dtype=bool)
    class_targets = np.full((grid_h, grid_w, A), -1, dtype=np.int64)
    # 1. The cell that holds each centre (a centre on the far edge stays in the last cell).
    w, h = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]  # (M,)
    cx, cy = boxes[:, 0] + w / 2, boxes[:, 1] + h / 2
    j = np.clip(np.floor(cx / cell_w).astype(np.int64), 0, grid_w - 1)  # column
    i = np.clip(np.floor(cy / cell_h).astype(np.int64), 0, grid_h - 1)  # row
    # 2. The best anchor by shape alone: IoU with both boxes centred at 0.
    inter = np.minimum(w[:, None], anchors[None, :, 0]) * np.minimum(
        h[:, None], anchors[None, :, 1]
    )
    union = (w * h)[:, None] + (anchors[:, 0] * anchors[:, 1])[None, :] - inter  # (M, A)
    a = np.argmax(inter / union, axis=1)  # (M,), the first of equal bests
    # 3. Offsets inside the cell, log size ratios against the anchor.
    t = np.stack(
        [cx / cell_w - j, cy / cell_h - i, np.log(w / anchors[a, 0]), np.log(h / anchors[a, 1])],
        axis=1,
    )  # (M, 4)
    for k in range(len(boxes)):  # in order: a later box in the same slot replaces an earlier one
        box_targets[i[k], j[k], a[k]] = t[k]
        object_mask[i[k], j[k], a[k]] = True
        class_targets[i[k], j[k], a[k]] = labels[k]
    return box_targets, object_mask, class_targets


def match_detections(boxes, scores, gt_boxes, iou_threshold=0.5):
    """True/false positive per detection: greedy by score, each ground-truth box once."""
    is_tp = np.zeros(len(scores), dtype=bool)
    if len(scores) == 0 or len(gt_boxes) == 0:
        return is_tp
    iou = box_iou(boxes, gt_boxes)  # (N, M)
    taken = np.zeros(len(gt_boxes), dtype=bool)
    for d in np.argsort(-scores, kind="stable"):  # the most confident detection picks first
        candidates = np.where(taken, -1.0, iou[d])  # a matched ground-truth box is used up
        g = np.argmax(candidates)
        if candidates[g] >= iou_threshold:
            is_tp[d] = True
            taken[g] = True
    return is_tp


def _envelope(precision):
    """Best precision at this recall or any higher one: non-increasing from the left."""
    return np.maximum.accumulate(precision[::-1])[::-1]


def average_precision(scores, is_tp, num_gt, method="voc"):
    """Area under the precision-recall curve: VOC all-point or COCO 101-point."""
    if method not in ("voc", "coco"):
        raise ValueError(f"method must be 'voc' or 'coco', not {method!r}")
    if num_gt == 0:
        return float("nan")  # recall is undefined without ground truth
    order = np.argsort(-scores, kind="stable")
    tp = is_tp[order].astype(np.float64)
    tp_cum = np.cumsum(tp)
    recall = tp_cum / num_gt
    precision = tp_cum / np.arange(1, len(tp) + 1)  # TP among the top k, over k
    if method == "voc":
        mrec = np.concatenate([[0.0], recall, [1.0]])
        mpre = _envelope(np.concatenate([[0.0], precision, [0.0]]))
        steps = np.flatnonzero(mrec[1:] != mrec[:-1])  # where recall moves
        return float(np.sum((mrec[steps + 1] - mrec[steps]) * mpre[steps + 1]))
    if len(tp) == 0:
        return 0.0
    precision = _envelope(precision)
    thresholds = np.linspace(0, 1, 101)  # pycocotools' recall points, bit for bit
    first = np.searchsorted(recall, thresholds, side="left")  # first rank reaching each
    reached = first < len(recall)
    q = np.where(reached, precision[np.minimum(first, len(recall) - 1)], 0.0)
    return float(q.mean())
