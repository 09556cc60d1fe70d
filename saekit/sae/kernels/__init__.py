"""The CPU fast paths of training and their loader: the sparse TopK backward (`sparse_ops`), the
compiled row top-k (`row_topk`) and fused AuxK (`auxk_fused`), built from the `.cpp` files here
on first use (`compiled`). Each has a plain-PyTorch reference beside it and a test that they
agree."""
