#include "tensor/graph_dot.h"

#include <sstream>
#include <unordered_map>
#include <vector>

namespace nib::autograd {

namespace {

// DOT ids: n0, n1, ... for ops; l0, l1, ... for leaves, in the order first met.
class DotWriter {
 public:
  explicit DotWriter(const std::map<const TensorImpl*, std::string>& leaf_names) : leaf_names_(leaf_names) {}

  std::string op(const Node* node) {
    auto [it, added] = ops_.try_emplace(node, "n" + std::to_string(ops_.size()));
    if (added) {
      out_ << "  " << it->second << " [shape=box, label=\"" << node->name << "\\n" << node->output_shape.str()
           << "\"];\n";
      pending_.push_back(node);
    }
    return it->second;
  }

  std::string leaf(const TensorImpl* impl) {
    auto [it, added] = leaves_.try_emplace(impl, "l" + std::to_string(leaves_.size()));
    if (added) {
      auto name = leaf_names_.find(impl);
      out_ << "  " << it->second << " [shape=ellipse, label=\""
           << (name == leaf_names_.end() ? std::string("leaf") : name->second) << "\\n" << impl->shape.str()
           << "\"];\n";
    }
    return it->second;
  }

  // Every op reachable from the first, each with the arrows from its inputs.
  void walk() {
    while (!pending_.empty()) {
      const Node* node = pending_.back();
      pending_.pop_back();
      const std::string id = ops_.at(node);
      for (const Edge& edge : node->edges) {
        if (!edge.active()) continue;
        // The input's declaration first (when new), then the arrow.
        const std::string from = edge.node ? op(edge.node.get()) : leaf(edge.leaf.get());
        out_ << "  " << from << " -> " << id << ";\n";
      }
    }
  }

  std::string str() const { return out_.str(); }

 private:
  const std::map<const TensorImpl*, std::string>& leaf_names_;
  std::unordered_map<const Node*, std::string> ops_;
  std::unordered_map<const TensorImpl*, std::string> leaves_;
  std::vector<const Node*> pending_;
  std::ostringstream out_;
};

}  // namespace

std::string to_dot(const Tensor& root, const std::map<const TensorImpl*, std::string>& leaf_names) {
  DotWriter writer(leaf_names);
  if (root.grad_fn()) {
    writer.op(root.grad_fn().get());
    writer.walk();
  } else if (root.requires_grad()) {
    writer.leaf(root.impl());
  }
  return "digraph autograd {\n  rankdir=TB;\n  node [fontname=\"Helvetica\", fontsize=10];\n" + writer.str() + "}\n";
}

}  // namespace nib::autograd
