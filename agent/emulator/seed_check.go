package emulator

import (
	"errors"
	"fmt"
	"strings"
)

// crossCheck reports problems that span entries: duplicate identity names
// or client IDs, and access rules naming no identity.
func (d *decoder) crossCheck(s *Seed) {
	names := map[string]nodeRef{}
	clients := map[string]nodeRef{}
	for _, ref := range d.identities {
		if first, dup := names[ref.name]; dup {
			d.errorf(ref.node, ref.path, "duplicate identity name %q (first at line %d)", ref.name, first.node.Line)
		} else {
			names[ref.name] = ref
		}
		if ref.name == SystemIdentity && ref.path != "managedIdentities.system" {
			d.errorf(ref.node, ref.path, "the name %q is reserved for the system-assigned identity", SystemIdentity)
		}
		if ref.clientID == "" {
			continue
		}
		if first, dup := clients[ref.clientID]; dup {
			d.errorf(ref.node, ref.path, "clientId is already used by %q (line %d)", first.name, first.node.Line)
		} else {
			clients[ref.clientID] = ref
		}
	}
	for _, ref := range d.accessRefs {
		if _, ok := names[ref.name]; ok {
			continue
		}
		d.errorf(ref.node, ref.path, "%s", noIdentityMessage(s, ref.name))
	}
	s.fillIDs()
}

// noIdentityMessage explains an access rule naming no identity, listing the
// names that exist.
func noIdentityMessage(s *Seed, name string) string {
	known := s.identityNames()
	if name == SystemIdentity {
		return "names the system-assigned identity, but managedIdentities.system is not defined"
	}
	if len(known) == 0 {
		return fmt.Sprintf("no identity named %q: the seed defines no identities", name)
	}
	return fmt.Sprintf("no identity named %q (defined: %s)", name, strings.Join(known, ", "))
}

func (s *Seed) identityNames() []string {
	var out []string
	if s.ManagedIdentities.System != nil {
		out = append(out, SystemIdentity)
	}
	for _, id := range s.ManagedIdentities.UserAssigned {
		out = append(out, id.Name)
	}
	for _, sp := range s.ServicePrincipals {
		out = append(out, sp.Name)
	}
	return out
}

// fillIDs gives identities without IDs stable ones derived from their
// names, and user-assigned identities a resource ID.
func (s *Seed) fillIDs() {
	if s.Tenant == "" {
		s.Tenant = DefaultTenant
	}
	if sys := s.ManagedIdentities.System; sys != nil {
		sys.Name = SystemIdentity
		fillGUID(&sys.ClientID, "mi-client", SystemIdentity)
		fillGUID(&sys.ObjectID, "mi-object", SystemIdentity)
	}
	for i := range s.ManagedIdentities.UserAssigned {
		id := &s.ManagedIdentities.UserAssigned[i]
		fillGUID(&id.ClientID, "mi-client", id.Name)
		fillGUID(&id.ObjectID, "mi-object", id.Name)
		if id.ResourceID == "" {
			id.ResourceID = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/emulator" +
				"/providers/Microsoft.ManagedIdentity/userAssignedIdentities/" + id.Name
		}
	}
	for i := range s.ServicePrincipals {
		sp := &s.ServicePrincipals[i]
		fillGUID(&sp.ClientID, "sp-client", sp.Name)
		fillGUID(&sp.ObjectID, "sp-object", sp.Name)
		if sp.Federated != nil && sp.Federated.Audience == "" {
			sp.Federated.Audience = DefaultFederatedAudience
		}
	}
}

func fillGUID(p *string, kind, name string) {
	if *p == "" {
		*p = derivedGUID(kind, name)
	} else {
		*p = strings.ToLower(*p)
	}
}

// clone returns a copy of s that Start may complete without changing the
// caller's seed. Vault contents are shared: kvserver copies what it keeps.
func (s *Seed) clone() *Seed {
	if s == nil {
		return &Seed{Tenant: DefaultTenant}
	}
	c := *s
	if s.ManagedIdentities.System != nil {
		sys := *s.ManagedIdentities.System
		c.ManagedIdentities.System = &sys
	}
	c.ManagedIdentities.UserAssigned = append([]ManagedIdentity(nil), s.ManagedIdentities.UserAssigned...)
	c.ServicePrincipals = append([]ServicePrincipal(nil), s.ServicePrincipals...)
	for i, sp := range c.ServicePrincipals {
		if sp.Federated != nil {
			f := *sp.Federated
			c.ServicePrincipals[i].Federated = &f
		}
	}
	return &c
}

// validate checks a seed built in Go (a parsed seed has passed the same
// checks with positions). It expects fillIDs to have run.
func (s *Seed) validate() error {
	var errs []error
	if !isGUID(s.Tenant) {
		errs = append(errs, fmt.Errorf("tenant %q is not a GUID", s.Tenant))
	}
	names := map[string]bool{}
	clients := map[string]string{}
	add := func(name, clientID string) {
		if name == "" {
			errs = append(errs, errors.New("an identity has no name"))
		}
		if names[name] {
			errs = append(errs, fmt.Errorf("duplicate identity name %q", name))
		}
		names[name] = true
		if other, dup := clients[clientID]; dup {
			errs = append(errs, fmt.Errorf("identities %q and %q share a client ID", other, name))
		}
		clients[clientID] = name
	}
	if sys := s.ManagedIdentities.System; sys != nil {
		add(SystemIdentity, sys.ClientID)
	}
	for _, id := range s.ManagedIdentities.UserAssigned {
		if id.Name == SystemIdentity {
			errs = append(errs, fmt.Errorf("the name %q is reserved for the system-assigned identity", SystemIdentity))
		}
		add(id.Name, id.ClientID)
	}
	for _, sp := range s.ServicePrincipals {
		if sp.Name == SystemIdentity {
			errs = append(errs, fmt.Errorf("the name %q is reserved for the system-assigned identity", SystemIdentity))
		}
		add(sp.Name, sp.ClientID)
		if f := sp.Federated; f != nil && (f.Issuer == "" || f.Subject == "") {
			errs = append(errs, fmt.Errorf("service principal %q: federated issuer and subject are required", sp.Name))
		}
	}
	vaults := map[string]bool{}
	for _, v := range s.Vaults {
		if !isVaultName(v.Name) {
			errs = append(errs, fmt.Errorf("vault name %q is not valid", v.Name))
		}
		if vaults[strings.ToLower(v.Name)] {
			errs = append(errs, fmt.Errorf("duplicate vault %q", v.Name))
		}
		vaults[strings.ToLower(v.Name)] = true
		for _, a := range v.Access {
			if !names[a.Identity] {
				errs = append(errs, fmt.Errorf("vault %q: access rule %s", v.Name, noIdentityMessage(s, a.Identity)))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("invalid seed: %w", err)
	}
	return nil
}
