package emulator

import "strings"

// principal is an identity that can hold a token: a managed identity or a
// service principal.
type principal struct {
	name       string // what access rules name
	clientID   string
	objectID   string
	resourceID string            // user-assigned managed identities only
	sp         *ServicePrincipal // nil for managed identities
}

// directory indexes the seed's identities. It is read-only after Start.
type directory struct {
	system       *principal
	userAssigned []*principal
	byClientID   map[string]*principal
	byObjectID   map[string]*principal // managed identities only
	byResourceID map[string]*principal // lowercased
	spByClientID map[string]*principal
	spByName     map[string]*principal
}

func newDirectory(s *Seed) *directory {
	d := &directory{
		byClientID:   map[string]*principal{},
		byObjectID:   map[string]*principal{},
		byResourceID: map[string]*principal{},
		spByClientID: map[string]*principal{},
		spByName:     map[string]*principal{},
	}
	if sys := s.ManagedIdentities.System; sys != nil {
		d.system = &principal{name: SystemIdentity, clientID: sys.ClientID, objectID: sys.ObjectID}
		d.byClientID[sys.ClientID] = d.system
	}
	for _, id := range s.ManagedIdentities.UserAssigned {
		p := &principal{name: id.Name, clientID: id.ClientID, objectID: id.ObjectID, resourceID: id.ResourceID}
		d.userAssigned = append(d.userAssigned, p)
		d.byClientID[p.clientID] = p
		d.byObjectID[p.objectID] = p
		d.byResourceID[strings.ToLower(p.resourceID)] = p
	}
	for i := range s.ServicePrincipals {
		sp := &s.ServicePrincipals[i]
		p := &principal{name: sp.Name, clientID: sp.ClientID, objectID: sp.ObjectID, sp: sp}
		d.byClientID[p.clientID] = p
		d.spByClientID[p.clientID] = p
		d.spByName[p.name] = p
	}
	return d
}

// managedIdentity selects the managed identity a token request asks for:
// a user-assigned one by client ID, object ID or resource ID, else the
// system-assigned one. ok is false when that identity is not assigned.
func (d *directory) managedIdentity(clientID, objectID, resourceID string) (*principal, bool) {
	switch {
	case clientID != "":
		p := d.byClientID[strings.ToLower(clientID)]
		if p == nil || p.sp != nil || p == d.system {
			return nil, false
		}
		return p, true
	case objectID != "":
		p := d.byObjectID[strings.ToLower(objectID)]
		return p, p != nil
	case resourceID != "":
		p := d.byResourceID[strings.ToLower(resourceID)]
		return p, p != nil
	}
	return d.system, d.system != nil
}
