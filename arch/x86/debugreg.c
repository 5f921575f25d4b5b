/* Debug registers per vCPU (x86/debugreg.h). */
#include <x86/debugreg.h>
#include "hv/vm.h"

#define DR_ACCESS(n)                                                            \
	static uint64_t get_dr##n(void)                                         \
	{                                                                       \
		uint64_t v;                                                     \
		__asm__ __volatile__("mov %%db" #n ", %0" : "=r"(v));           \
		return v;                                                       \
	}                                                                       \
	static void set_dr##n(uint64_t v)                                       \
	{                                                                       \
		__asm__ __volatile__("mov %0, %%db" #n :: "r"(v));              \
	}
DR_ACCESS(0)
DR_ACCESS(1)
DR_ACCESS(2)
DR_ACCESS(3)
DR_ACCESS(6)
#undef DR_ACCESS

static void load(struct vcpu *v, bool with_dr6)
{
	set_dr0(v->db[0]);
	set_dr1(v->db[1]);
	set_dr2(v->db[2]);
	set_dr3(v->db[3]);
	if (with_dr6)
		set_dr6(v->dr6);
}

bool debugreg_load_armed(struct vcpu *v, bool with_dr6)
{
	if (v->dr_state == DR_SAVED) {          /* DR7 arms a breakpoint */
		load(v, with_dr6);
		v->dr_state = DR_LOADED;
	}
	return v->dr_state != DR_LIVE;
}

void debugreg_save(struct vcpu *v, bool with_dr6)
{
	v->db[0] = get_dr0();
	v->db[1] = get_dr1();
	v->db[2] = get_dr2();
	v->db[3] = get_dr3();
	set_dr0(0);
	set_dr1(0);
	set_dr2(0);
	set_dr3(0);
	if (with_dr6) {
		v->dr6 = get_dr6();
		set_dr6(DR6_RESET);
	}
	v->dr_state = DR_SAVED;
}

void debugreg_make_live(struct vcpu *v, bool with_dr6)
{
	if (v->dr_state == DR_SAVED)
		load(v, with_dr6);
	v->dr_state = DR_LIVE;
}
