"""The Vision Transformer (ViT, Dosovitskiy et al. 2021): an image cut into patches is a sequence of tokens.

Each p×p patch is flattened and projected to E features (the same as a convolution with kernel and stride
p), a learned class token is put in front, learned position embeddings are added, and a Pre-LN Transformer
encoder runs over the sequence; the class token's output feeds the classification head.
"""

from __future__ import annotations

from typing import Any

from n2t.torch._checks import _describe, check_like, check_options, guard

# --8<-- [start:imports]
import torch
from torch import nn

from n2t.torch.transformer import LayerNorm, TransformerEncoder, TransformerEncoderLayer
# --8<-- [end:imports]

__all__ = ["PatchEmbedding", "ViT"]


# --8<-- [start:patch-embedding]
class PatchEmbedding(nn.Module):
    """Cut ``(N, C, H, W)`` images into non-overlapping p×p patches and project each to E features.

    Args:
        image_size: H = W, a multiple of p.
        patch_size: p.
        in_channels: C.
        embed_dim: E.
    """

    def __init__(self, image_size: int, patch_size: int, in_channels: int, embed_dim: int) -> None:
        super().__init__()
        self.image_size, self.patch_size, self.in_channels = image_size, patch_size, in_channels
        self.num_patches = (image_size // patch_size) ** 2  # P
        self.proj = nn.Linear(in_channels * patch_size * patch_size, embed_dim)  # weight (E, C·p·p)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Args: images ``(N, C, H, W)``. Returns: patch embeddings ``(N, P, E)``, patches in reading order."""
        n, c, h, w = images.shape
        p = self.patch_size
        grid = images.reshape(n, c, h // p, p, w // p, p)  # (N, C, H/p, p, W/p, p)
        patches = grid.permute(0, 2, 4, 1, 3, 5).reshape(n, self.num_patches, c * p * p)  # (N, P, C·p·p)
        return self.proj(patches)  # (N, P, E)
# --8<-- [end:patch-embedding]


# --8<-- [start:vit]
class ViT(nn.Module):
    """Vision Transformer classifier.

    Args:
        image_size: H = W.
        patch_size: p, a divisor of image_size.
        in_channels: C.
        num_classes: K.
        embed_dim: E.
        depth: encoder layers.
        num_heads: attention heads, a divisor of E.
        mlp_dim: hidden width of the feed-forward sublayers.
        dropout: dropout probability.
    """

    def __init__(self, image_size: int, patch_size: int, in_channels: int, num_classes: int, embed_dim: int = 64,
                 depth: int = 4, num_heads: int = 4, mlp_dim: int = 128, dropout: float = 0.0) -> None:
        super().__init__()
        self.patch_embedding = PatchEmbedding(image_size, patch_size, in_channels, embed_dim)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dim))  # a learned extra token
        self.pos_embedding = nn.Parameter(torch.randn(1, self.patch_embedding.num_patches + 1, embed_dim) * 0.02)
        self.dropout = nn.Dropout(dropout)
        layer = TransformerEncoderLayer(embed_dim, num_heads, mlp_dim, dropout, "gelu", norm_first=True)
        self.encoder = TransformerEncoder(layer, depth, LayerNorm(embed_dim))
        self.head = nn.Linear(embed_dim, num_classes)
        for param in self.encoder.parameters():  # the layer copies must not start equal
            if param.dim() > 1:
                nn.init.xavier_uniform_(param)

    def features(self, images: torch.Tensor) -> torch.Tensor:
        """Args: images ``(N, C, H, W)``. Returns: the encoder's output ``(N, 1 + P, E)``, the class token first."""
        patches = self.patch_embedding(images)  # (N, P, E)
        cls = self.cls_token.expand(patches.shape[0], -1, -1)  # (N, 1, E)
        x = torch.cat([cls, patches], dim=1) + self.pos_embedding  # (N, 1 + P, E)
        return self.encoder(self.dropout(x))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Args: images ``(N, C, H, W)``. Returns: class logits ``(N, K)``, read from the class token alone."""
        return self.head(self.features(images)[:, 0])
# --8<-- [end:vit]


def _check_images(module: Any, images: Any) -> None:
    embedding = module if isinstance(module, PatchEmbedding) else module.patch_embedding
    size, channels = embedding.image_size, embedding.in_channels
    if not isinstance(images, torch.Tensor) or not images.is_floating_point() \
            or tuple(images.shape[1:]) != (channels, size, size) or images.shape[0] == 0:
        raise ValueError(f"{type(module).__name__}: argument 'images' must be a floating-point tensor of shape "
                         f"(N, C, H, W) = (?, {channels}, {size}, {size}); got {_describe(images)}")
    check_like(type(module).__name__, "images", images, embedding.proj.weight, "the weights are")


# input checks, installed here so that the code above reads as the pages show it
for _cls in (PatchEmbedding, ViT):
    guard(_cls, "__init__", check_options)
guard(PatchEmbedding, "forward", _check_images)
guard(ViT, "features", _check_images)
