"""Distillation losses on logits: temperature-scaled KL to the teacher, cross-entropy on labels,
feature matching (mean squared error) on named values. Each returns (loss, gradient)."""
from __future__ import annotations

import numpy as np


def log_softmax(z: np.ndarray) -> np.ndarray:
    z = z.astype(np.float64)
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def kl_loss(student: np.ndarray, teacher: np.ndarray, temperature: float = 4.0):
    """T² · mean over the batch of KL(softmax(t/T) || softmax(s/T)) (Hinton et al.)."""
    t = float(temperature)
    s2 = student.reshape(student.shape[0], -1)
    lt = log_softmax(teacher.reshape(s2.shape) / t)
    ls = log_softmax(s2 / t)
    pt = np.exp(lt)
    n = s2.shape[0]
    loss = t * t * float(np.sum(pt * (lt - ls))) / n
    grad = t * (np.exp(ls) - pt) / n
    return loss, grad.reshape(student.shape).astype(student.dtype)


def ce_loss(student: np.ndarray, labels: np.ndarray):
    """Mean cross-entropy of softmax(student) against integer labels."""
    s2 = student.reshape(student.shape[0], -1)
    ls = log_softmax(s2)
    n = s2.shape[0]
    idx = np.asarray(labels, np.int64).ravel()
    loss = -float(ls[np.arange(n), idx].sum()) / n
    grad = np.exp(ls)
    grad[np.arange(n), idx] -= 1.0
    return loss, (grad / n).reshape(student.shape).astype(student.dtype)


def feature_loss(student: np.ndarray, teacher: np.ndarray):
    """Mean squared error between a student and a teacher feature map."""
    d = student.astype(np.float64) - teacher
    return float(np.mean(d * d)), (2.0 * d / d.size).astype(student.dtype)
