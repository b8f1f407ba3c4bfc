"""Detection building blocks: IoU, NMS, anchors, box coding, YOLO targets, average precision.

Implement with NumPy. A detector proposes many boxes and scores; these are the pieces
around the network: how much two boxes overlap (IoU), which boxes survive (NMS), the
reference boxes a detector predicts from (anchors), the numbers it regresses (box
coding), what a YOLO head is trained to output (targets), and how it is scored (AP).

Boxes are (x1, y1, x2, y2) corners in pixels, x1 <= x2 and y1 <= y2, width x2 - x1
(no +1: the convention of torchvision and Detectron2, not of the old VOC devkit).

Run: pytest katas/03_cnn/test_detection.py
"""

import math

import numpy as np

BBOX_XFORM_CLIP = math.log(1000.0 / 16)  # torchvision's cap on decoded dw and dh


def box_iou(boxes1: np.ndarray, boxes2: np.ndarray) -> np.ndarray:
    """Intersection over union of every box in boxes1 with every box in boxes2.

    Math:
        area(b) = (x2 - x1) * (y2 - y1)
        inter = max(0, min(x2, x2') - max(x1, x1')) * max(0, min(y2, y2') - max(y1, y1'))
        iou = inter / (area(b) + area(b') - inter);  0 where that union is 0

    Shapes:
        boxes1: (N, 4); boxes2: (M, 4); returns (N, M). N or M may be 0.

    Args:
        boxes1, boxes2: boxes as (x1, y1, x2, y2); zero-width or zero-height boxes allowed.

    Returns:
        iou[n, m] in [0, 1], the inputs' dtype (float32 in, float32 out).

    Numerics:
        Disjoint boxes overlap by 0, not by a negative width times a negative height:
        clamp each side of the intersection at 0 before multiplying. Two zero-area boxes
        have union 0; return 0 there (torchvision returns 0/0 = nan).

    Reference:
        torchvision.ops.box_iou
    """
    raise NotImplementedError


def nms(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float) -> np.ndarray:
    """Non-maximum suppression: keep the best box, drop the boxes that overlap it, repeat.

    Math:
        visit boxes by score, highest first (equal scores: lower index first);
        a box not yet suppressed is kept, and suppresses every box with
        iou(kept, other) > iou_threshold (strictly greater). A suppressed box
        suppresses nothing.

    Shapes:
        boxes: (N, 4); scores: (N,); returns (K,) with K <= N. N may be 0.

    Args:
        boxes: (x1, y1, x2, y2) boxes.
        scores: one confidence per box.
        iou_threshold: overlap above which the lower-scored box is dropped.

    Returns:
        int64 indices of the kept boxes, sorted by decreasing score.

    Numerics:
        Sort with a stable sort (np.argsort(-scores, kind="stable")) so ties are
        deterministic. Compute box_iou(boxes, boxes) once, not inside the loop.

    Reference:
        torchvision.ops.nms (whose CPU sort does not promise an order for ties)
    """
    raise NotImplementedError


def batched_nms(
    boxes: np.ndarray, scores: np.ndarray, classes: np.ndarray, iou_threshold: float
) -> np.ndarray:
    """Class-aware NMS: boxes of different classes never suppress each other.

    Math:
        offset[n] = classes[n] * (max coordinate of all boxes + 1)
        nms(boxes + offset[:, None], scores, iou_threshold)
        (moving each class to its own region of the plane: boxes of two classes
        cannot overlap, so one nms call does every class at once)

    Shapes:
        boxes: (N, 4); scores: (N,); classes: (N,) integers; returns (K,).

    Args:
        boxes: (x1, y1, x2, y2) boxes with coordinates >= 0 (image coordinates).
        scores: one confidence per box.
        classes: each box's class id (>= 0).
        iou_threshold: as in nms.

    Returns:
        int64 indices of the kept boxes, sorted by decreasing score (ties by index).

    Numerics:
        N = 0 returns an empty int64 array (boxes.max() of nothing would raise).

    Reference:
        torchvision.ops.batched_nms (its _batched_nms_coordinate_trick)
    """
    raise NotImplementedError


def make_anchors(
    grid_size: tuple[int, int],
    stride: int | tuple[int, int],
    sizes: tuple[float, ...],
    aspect_ratios: tuple[float, ...],
    dtype=np.float32,
) -> np.ndarray:
    """Faster R-CNN anchors: len(sizes) * len(aspect_ratios) boxes at every feature-map cell.

    Math:
        aspect ratio r = height / width, area kept at size^2:
        h_ratio = sqrt(r), w_ratio = 1 / h_ratio; for each r (outer), each size s (inner):
        w = w_ratio * s, h = h_ratio * s;  base anchor = round([-w, -h, w, h] / 2)
        cell (i, j) (row i, column j) is shifted by (x, y) = (j * stride_w, i * stride_h):
        anchor = base + [x, y, x, y]

    Shapes:
        returns (H * W * A, 4) with A = len(aspect_ratios) * len(sizes), ordered by
        cell (row-major: i, then j), then base anchor.

    Args:
        grid_size: (H, W), the feature map's height and width.
        stride: pixels between cells, an int or (stride_h, stride_w).
        sizes: anchor sizes in pixels (sqrt of the area), e.g. (32, 64, 128).
        aspect_ratios: height / width ratios, e.g. (0.5, 1.0, 2.0).
        dtype: the result's dtype; compute the base anchors in it too.

    Returns:
        anchors as (x1, y1, x2, y2), centred on the cells' top-left corners.

    Numerics:
        np.round rounds halves to even, as torch.round does.

    Reference:
        torchvision.models.detection.anchor_utils.AnchorGenerator
        (generate_anchors, then grid_anchors)
    """
    raise NotImplementedError


def encode_boxes(
    boxes: np.ndarray, anchors: np.ndarray, weights: tuple[float, ...] = (1.0, 1.0, 1.0, 1.0)
) -> np.ndarray:
    """R-CNN box regression targets: how to move and stretch each anchor onto its box.

    Math:
        anchor: centre (ax, ay), size (aw, ah); box: centre (gx, gy), size (gw, gh)
        (centre = x1 + 0.5 * width, width = x2 - x1; likewise for y)
        dx = wx * (gx - ax) / aw        dy = wy * (gy - ay) / ah
        dw = ww * log(gw / aw)          dh = wh * log(gh / ah)

    Shapes:
        boxes, anchors: (N, 4) (box n is matched to anchor n); returns (N, 4).

    Args:
        boxes: ground-truth boxes, positive width and height.
        anchors: the anchors (or proposals) they are matched to, positive sizes.
        weights: (wx, wy, ww, wh); Faster R-CNN's box head uses (10, 10, 5, 5).

    Returns:
        codes (dx, dy, dw, dh) per row, boxes' dtype.

    Numerics:
        Dividing the shift by the anchor's size and taking the log of the size ratio
        make the targets independent of the box's scale.

    Reference:
        torchvision.models.detection._utils.BoxCoder.encode_single
    """
    raise NotImplementedError


def decode_boxes(
    codes: np.ndarray,
    anchors: np.ndarray,
    weights: tuple[float, ...] = (1.0, 1.0, 1.0, 1.0),
    clip: float = BBOX_XFORM_CLIP,
) -> np.ndarray:
    """Invert encode_boxes: apply predicted codes to anchors to get boxes.

    Math:
        dx, dy, dw, dh = codes / (wx, wy, ww, wh);  dw = min(dw, clip), dh = min(dh, clip)
        cx = dx * aw + ax;  cy = dy * ah + ay;  w = exp(dw) * aw;  h = exp(dh) * ah
        box = (cx - 0.5 * w, cy - 0.5 * h, cx + 0.5 * w, cy + 0.5 * h)

    Shapes:
        codes, anchors: (N, 4); returns (N, 4).

    Args:
        codes: predicted (dx, dy, dw, dh), one row per anchor.
        anchors: (x1, y1, x2, y2) anchors.
        weights: the weights the codes were encoded with.
        clip: the largest dw, dh used (log(1000 / 16): a box at most 62.5x its anchor).

    Returns:
        boxes (x1, y1, x2, y2), codes' dtype.

    Numerics:
        An untrained head can predict dw = 100: exp(100) overflows float32. Clamp dw
        and dh from above (only from above: shrinking cannot overflow).

    Reference:
        torchvision.models.detection._utils.BoxCoder.decode_single
    """
    raise NotImplementedError


def yolo_targets(
    boxes: np.ndarray,
    labels: np.ndarray,
    anchors: np.ndarray,
    grid_size: tuple[int, int],
    image_size: tuple[int, int],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """YOLO (v2/v3) training targets: each box goes to its centre's cell and best anchor.

    Math:
        cell size: cw = W_img / S_w, ch = H_img / S_h; box centre (cx, cy), size (w, h)
        j = floor(cx / cw), i = floor(cy / ch), each clipped to the grid
        a = argmax over anchors of shape IoU, the IoU of the box and the anchor with
            both centred at 0: min(w, aw) * min(h, ah) / (w*h + aw*ah - that)
            (equal IoUs: the first anchor)
        target[i, j, a] = (cx / cw - j, cy / ch - i, log(w / aw), log(h / ah))
        boxes are written in order: a later box in the same (i, j, a) replaces an earlier one

    Shapes:
        boxes: (M, 4); labels: (M,); anchors: (A, 2) as (width, height) in pixels;
        returns (S_h, S_w, A, 4), (S_h, S_w, A), (S_h, S_w, A). M may be 0.

    Args:
        boxes: (x1, y1, x2, y2) in pixels, positive width and height.
        labels: each box's class id.
        anchors: anchor (width, height) pairs.
        grid_size: (S_h, S_w), the head's output grid.
        image_size: (H_img, W_img) in pixels.

    Returns:
        box_targets: (tx, ty, tw, th), 0 where no box was assigned; boxes' dtype.
        object_mask: bool, True where a box was assigned.
        class_targets: int64, the label where a box was assigned, -1 elsewhere.

    Numerics:
        tx, ty are offsets inside the cell, in [0, 1] (1 only for a centre on the far
        image edge); tw, th are log size ratios, 0 for a box shaped like its anchor.

    Reference:
        Redmon & Farhadi, YOLO9000 (2016) section 2 and YOLOv3 (2018) section 2.1;
        torch has no op for this.
    """
    raise NotImplementedError


def match_detections(
    boxes: np.ndarray, scores: np.ndarray, gt_boxes: np.ndarray, iou_threshold: float = 0.5
) -> np.ndarray:
    """Mark each detection of one image and class as a true or false positive.

    Math:
        visit detections by score, highest first (stable); each takes the still
        unmatched ground-truth box with the highest IoU; if that IoU >= iou_threshold
        the detection is a true positive and the ground-truth box is used up,
        otherwise it is a false positive. Each ground-truth box is matched at most once.

    Shapes:
        boxes: (N, 4); scores: (N,); gt_boxes: (M, 4); returns (N,). N or M may be 0.

    Args:
        boxes, scores: the detections.
        gt_boxes: the ground-truth boxes of the same image and class.
        iou_threshold: the overlap a true positive needs (0.5 in PASCAL VOC).

    Returns:
        is_tp: bool, in the detections' input order (not sorted).

    Numerics:
        A second detection of an already matched object is a false positive: that is
        how duplicates (what NMS missed) cost precision.

    Reference:
        pycocotools COCOeval.evaluateImg (the PASCAL VOC devkit differs: it takes the
        best ground-truth box even when already matched, and needs IoU > 0.5)
    """
    raise NotImplementedError


def average_precision(
    scores: np.ndarray, is_tp: np.ndarray, num_gt: int, method: str = "voc"
) -> float:
    """Area under the precision-recall curve of ranked detections.

    Math:
        rank detections by score (stable, highest first); after the k-th:
        recall_k = TP_k / num_gt, precision_k = TP_k / k
        envelope: p(r) = max of precision_k over all k with recall_k >= r
        "voc" (PASCAL VOC 2010+, all points): pad recall with 0 and 1 and precision
            with 0 and 0, take the envelope, sum (r_{k+1} - r_k) * p_{k+1} where recall steps
        "coco" (101 points): mean over r in np.linspace(0, 1, 101) of the envelope at the
            first rank with recall >= r (0 if recall never reaches r)

    Shapes:
        scores, is_tp: (N,), N may be 0; returns a Python float.

    Args:
        scores: detection confidences, pooled over images.
        is_tp: match_detections' verdicts, pooled the same way.
        num_gt: number of ground-truth boxes over the same images (what recall counts).
        method: "voc" or "coco"; anything else raises ValueError.

    Returns:
        AP in [0, 1]; 0.0 when there are no detections; nan when num_gt is 0.

    Numerics:
        The envelope makes precision non-increasing in recall: without it, AP rewards
        wiggles of the curve. Use np.linspace(0, 1, 101) exactly: at a recall equal to
        a threshold, np.arange(101) / 100 rounds differently.

    Reference:
        PASCAL VOC devkit voc_ap (use_07_metric=False); pycocotools COCOeval.accumulate
    """
    raise NotImplementedError
