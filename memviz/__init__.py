"""memviz: see how memory-augmented neural networks read and write their memory.

Public API (DESIGN.md section 3)::

    import memviz
    memviz.list_pretrained()
    model = memviz.load_pretrained("ntm-copy")
    trace = model.run(x)
"""

from memviz.registry import list_pretrained, load_pretrained

__all__ = ["list_pretrained", "load_pretrained"]
__version__ = "0.1.0"
