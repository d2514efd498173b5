// SPDX-License-Identifier: GPL-2.0-only
/*
 * kvm-features: print the paravirtual features that KVM announces to this
 * guest (CPUID 0x40000001 EAX), as "kvm_features=0x... tpt=0|1".  Bit 18
 * is the mmuvirt series' KVM_FEATURE_TPT (Documentation/tpt.rst), which
 * QEMU sets with -accel kvm,tpt=on.  Exits 1 outside a KVM guest.
 */
#include <cpuid.h>
#include <stdio.h>
#include <string.h>

#define KVM_CPUID_SIGNATURE	0x40000000
#define KVM_CPUID_FEATURES	0x40000001
#define KVM_FEATURE_TPT		18

int main(void)
{
	unsigned int eax, ebx, ecx, edx;
	char sig[13];

	__cpuid(KVM_CPUID_SIGNATURE, eax, ebx, ecx, edx);
	memcpy(sig, &ebx, 4);
	memcpy(sig + 4, &ecx, 4);
	memcpy(sig + 8, &edx, 4);
	sig[12] = '\0';
	if (strcmp(sig, "KVMKVMKVM") || eax < KVM_CPUID_FEATURES) {
		printf("kvm-features: not a KVM guest (signature '%s')\n", sig);
		return 1;
	}
	__cpuid(KVM_CPUID_FEATURES, eax, ebx, ecx, edx);
	printf("kvm_features=0x%x tpt=%u\n", eax, (eax >> KVM_FEATURE_TPT) & 1);
	return 0;
}
