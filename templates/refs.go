package templates

import (
	"text/template/parse"
)

// referencedSecrets walks every template in t's set (define and block
// included) and returns the constant secret names it finds, sorted and
// deduplicated; never nil.
func (t *Template) referencedSecrets() []string {
	var names []string
	for _, tmpl := range t.tmpl.Templates() {
		if tmpl.Tree == nil {
			continue
		}
		names = append(names, t.walk(tmpl.Tree.Root)...)
	}
	if names == nil {
		names = []string{}
	}
	return sortedUnique(names)
}

// isSecretFunc reports whether the function called name takes a secret name.
func (t *Template) isSecretFunc(name string) bool {
	return takesSecretName(name) || t.secretFuncs[name]
}

// walk returns the constant secret names under n.
func (t *Template) walk(n parse.Node) []string {
	var out []string
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return nil
		}
		for _, c := range n.Nodes {
			out = append(out, t.walk(c)...)
		}
	case *parse.ActionNode:
		out = t.walk(n.Pipe)
	case *parse.IfNode:
		out = t.walkBranch(&n.BranchNode)
	case *parse.RangeNode:
		out = t.walkBranch(&n.BranchNode)
	case *parse.WithNode:
		out = t.walkBranch(&n.BranchNode)
	case *parse.TemplateNode:
		out = t.walk(n.Pipe)
	case *parse.ChainNode:
		out = t.walk(n.Node)
	case *parse.PipeNode:
		out = t.walkPipe(n)
	case *parse.CommandNode:
		out = t.walkCommand(n)
	}
	return out
}

func (t *Template) walkBranch(b *parse.BranchNode) []string {
	out := t.walk(b.Pipe)
	out = append(out, t.walk(b.List)...)
	return append(out, t.walk(b.ElseList)...)
}

// walkPipe also catches the piped form "name" | secret: a command that is
// only a secret function, right after a command that is only a string.
func (t *Template) walkPipe(p *parse.PipeNode) []string {
	if p == nil {
		return nil
	}
	var out []string
	for _, d := range p.Decl {
		out = append(out, t.walk(d)...)
	}
	for i, c := range p.Cmds {
		out = append(out, t.walkCommand(c)...)
		if i == 0 || len(c.Args) != 1 || !t.isSecretIdent(c.Args[0]) {
			continue
		}
		if prev := p.Cmds[i-1]; len(prev.Args) == 1 {
			if s, ok := prev.Args[0].(*parse.StringNode); ok {
				out = append(out, s.Text)
			}
		}
	}
	return out
}

// walkCommand catches secret "name" and recurses into every argument.
func (t *Template) walkCommand(c *parse.CommandNode) []string {
	var out []string
	if len(c.Args) >= 2 && t.isSecretIdent(c.Args[0]) {
		if s, ok := c.Args[1].(*parse.StringNode); ok {
			out = append(out, s.Text)
		}
		if id := c.Args[0].(*parse.IdentifierNode); t.pairFuncs[id.Ident] && len(c.Args) >= 3 {
			if s, ok := c.Args[2].(*parse.StringNode); ok {
				out = append(out, s.Text)
			}
		}
	}
	for _, a := range c.Args {
		out = append(out, t.walk(a)...)
	}
	return out
}

func (t *Template) isSecretIdent(n parse.Node) bool {
	id, ok := n.(*parse.IdentifierNode)
	return ok && t.isSecretFunc(id.Ident)
}
